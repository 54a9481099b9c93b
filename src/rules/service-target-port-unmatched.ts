import { containerEntries, runsAlongsideApp } from '../engine/containers.js';
import { serviceName, serviceSelects } from '../engine/traffic.js';
import type { Rule, RuleIssue, Workload } from '../engine/types.js';
import { isObject } from '../engine/workload.js';

interface DeclaredPort {
  name: string | undefined;
  containerPort: number;
  protocol: string;
}

/**
 * Ports of the containers the endpoints controller looks at: regular containers and native sidecars
 * (FindPort skips plain init containers).
 */
function declaredPorts(w: Workload): DeclaredPort[] {
  return containerEntries(w.podSpec, w.pointer)
    .filter(runsAlongsideApp)
    .flatMap((e) => e.container.ports ?? [])
    .map((p) => ({ name: p.name ?? undefined, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' }));
}

/**
 * Port numbers the containers' command lines name: a whole argument (`--port 18080`), or the end of a flag value or
 * an address (`--port=18080`, `0.0.0.0:18080`). A Service targeting such a number reaches a port the app was told to
 * listen on, declared or not.
 */
function portsOnCommandLine(w: Workload): Set<number> {
  const ports = new Set<number>();
  for (const e of containerEntries(w.podSpec, w.pointer).filter(runsAlongsideApp)) {
    for (const arg of [...(e.container.command ?? []), ...(e.container.args ?? [])]) {
      const m = /(?:^|[=:])(\d{1,5})$/.exec(String(arg));
      if (m) ports.add(Number(m[1]));
    }
  }
  return ports;
}

export const serviceTargetPortUnmatched: Rule = {
  id: 'service-target-port-unmatched',
  summary: "A Service selecting the workload targets a port (number or name) that none of its containers declares.",
  defaultAction: 'warn',
  check(w, ctx) {
    // Without the namespace's Services (view not synced, or none given offline) there is nothing to check, and a
    // warning on every workload that says so would drown the real ones: stay silent.
    const services = ctx.cluster.listServices(w.metadata.namespace ?? '');
    if (!services.found) return [];
    const labels = w.templateMetadata.labels ?? {};
    const declared = declaredPorts(w);
    let commandLine: Set<number> | undefined;
    const path = `${w.pointer}/containers/0/ports`;
    const issues: RuleIssue[] = [];
    for (const service of services.value as unknown[]) {
      if (!isObject(service) || !serviceSelects(service, labels)) continue;
      const name = serviceName(service);
      const ports = isObject(service.spec) && Array.isArray(service.spec.ports) ? service.spec.ports : [];
      for (const port of ports) {
        if (!isObject(port)) continue;
        const protocol = typeof port.protocol === 'string' ? port.protocol : 'TCP';
        // targetPort defaults to port (also when given as 0 or '').
        const target = port.targetPort || port.port;
        const label = `Service '${name}' port ${String(port.port)}`;
        if (typeof target === 'string') {
          if (declared.some((d) => d.name === target && d.protocol === protocol)) continue;
          const other = declared.find((d) => d.name === target);
          issues.push({
            path,
            message:
              (other
                ? `${label} targets port name '${target}' over ${protocol}, but the containers declare it for ${other.protocol}: `
                : `${label} targets port name '${target}', which no container declares: `) +
              `these pods get no traffic from it. Name a ${protocol} containerPort '${target}' or use a port number.`,
          });
        } else if (typeof target === 'number') {
          // containerPort is informational in Kubernetes: traffic to an undeclared port still arrives if the app
          // listens there. Only when the pods declare their ports, and their command lines do not name this one, is a
          // number outside them likely a mistake.
          if (declared.length === 0 || declared.some((d) => d.containerPort === target && d.protocol === protocol)) continue;
          commandLine ??= portsOnCommandLine(w);
          if (commandLine.has(target)) continue;
          const known = declared.map((d) => d.containerPort).join(', ');
          issues.push({
            path,
            message:
              `${label} targets port ${target}, which no container declares (they declare ${known}). If nothing ` +
              'listens there, every request fails. Set targetPort to the port the app listens on.',
          });
        }
      }
    }
    return issues;
  },
};
