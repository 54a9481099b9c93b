/**
 * Per-file tap timeouts for the test files that spawn processes. tap gives a file 30 s unless
 * TAP_TIMEOUT (the runner's --timeout) says otherwise, and a loaded 2-core machine can take longer
 * than that just to run helm or the CLI a few dozen times. These files call `t.setTimeout(...)` first
 * (tap passes it on to the runner), so their limit does not depend on how they were started
 * (`npx tap file`, scripts/*.sh): generous, yet short enough that a hung file leaves CI time for the rest.
 */

/** Files that run helm, openssl or the built CLI (and helm's first build, when it is not cached). */
export const SPAWNING_FILE_TIMEOUT_MS = 10 * 60_000;

/** Files that start a control plane (etcd, kube-apiserver, kube-controller-manager) and the webhook. */
export const CLUSTER_FILE_TIMEOUT_MS = 20 * 60_000;
