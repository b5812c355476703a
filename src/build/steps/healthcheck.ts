/** HEALTHCHECK: config Healthcheck (durations in nanoseconds; zero ones left out, as Docker does). */
import type { HealthcheckInstruction } from '../../dockerfile/index.js';
import type { MutableConfig } from '../stage-state.js';
import type { Step } from './step.js';

export const healthcheckStep: Step<HealthcheckInstruction> = async ({ instruction, state }) => {
  const { health } = instruction;
  const config: NonNullable<MutableConfig['Healthcheck']> = {
    Test: health.test,
    ...(health.interval === 0 ? {} : { Interval: health.interval }),
    ...(health.timeout === 0 ? {} : { Timeout: health.timeout }),
    ...(health.startPeriod === 0 ? {} : { StartPeriod: health.startPeriod }),
    ...(health.startInterval === 0 ? {} : { StartInterval: health.startInterval }),
    ...(health.retries === 0 ? {} : { Retries: health.retries }),
  };
  state.config.Healthcheck = config;
  return { createdBy: instruction.source };
};
