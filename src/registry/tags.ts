/** Tag listing (`GET /v2/<name>/tags/list`), following `Link: <…>; rel="next"` pagination. */
import { header } from './client.js';
import { pullScope, type RepositoryTarget } from './manifests.js';
import { CaissonError } from '../errors.js';

export async function listTags(target: RepositoryTarget & { readonly pageSize?: number }): Promise<string[]> {
  const tags: string[] = [];
  let path: string | undefined = `/v2/${target.repository}/tags/list?n=${target.pageSize ?? 1000}`;
  for (let page = 0; path !== undefined; page += 1) {
    if (page > 10_000) throw new CaissonError({ code: 'ERR_REGISTRY_PROTOCOL', message: `${target.client.registry}/${target.repository}: tag listing does not end`, hint: 'The registry paginates in a loop.' });
    const response = await target.client.send({ method: 'GET', path, scopes: [pullScope(target.repository)], what: `${target.client.registry}/${target.repository}`, action: 'GET tags/list', accept: [] });
    const json = (await response.body.json()) as { tags?: unknown };
    if (Array.isArray(json.tags)) tags.push(...json.tags.filter((tag): tag is string => typeof tag === 'string'));
    const link = header(response.headers, 'link');
    const next = link === undefined ? undefined : /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1];
    path = next === undefined ? undefined : new URL(next, response.url).toString();
  }
  return tags;
}
