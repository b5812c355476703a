#!/bin/bash
# The catalog's e2e helper: run a registry as a sidecar of the Task, reachable at localhost:5000.
add_sidecar_registry ${TMPF}
