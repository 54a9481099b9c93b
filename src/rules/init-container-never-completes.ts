import { containerEntries, runsAlongsideApp } from '../engine/containers.js';
import { officialServerImage, serverLaunch } from '../engine/images.js';
import type { Rule, RuleIssue } from '../engine/types.js';

const FIX =
  'Move it to containers, or make it a native sidecar (restartPolicy: Always) if it must start before the others.';

export const initContainerNeverCompletes: Rule = {
  id: 'init-container-never-completes',
  summary: 'An init container runs a server, which never exits: the pod hangs in PodInitializing.',
  defaultAction: 'deny',
  check(w) {
    const issues: RuleIssue[] = [];
    for (const e of containerEntries(w.podSpec, w.pointer)) {
      if (runsAlongsideApp(e)) continue;
      const c = e.container;
      const image = officialServerImage(c.image);
      let what: string | undefined;
      if (image && serverLaunch(c, image)) what = `runs the ${image.name} server`;
      else if ((c.ports ?? []).length > 0) what = `declares port ${c.ports![0]!.containerPort}, so it looks like a server`;
      if (!what) continue;
      issues.push({
        container: c.name,
        path: e.path,
        message:
          `init container '${c.name}' ${what}, which never exits: the pod hangs in PodInitializing. ` +
          `The app never starts and the rollout stalls. ${FIX}`,
      });
    }
    return issues;
  },
};
