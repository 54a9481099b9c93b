import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * The part of a workload that rules read, as a schema. The API server has decoded the object into Go structs
 * before we see it, so its types are right; manifests given to the CLI (and hostile requests) may not be.
 * Checking this subset once lets every rule read fields without defensive type tests. Unknown fields pass.
 * `null` counts as absent, because YAML writes an empty key as null.
 */
const Opt = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Str = Type.String();
const Int = Type.Integer();
const IntOrString = Type.Union([Type.Integer(), Type.String()]);
const Obj = Type.Object({});

const Handler = Type.Object({
  exec: Opt(Type.Object({ command: Opt(Type.Array(Str)) })),
  sleep: Opt(Type.Object({ seconds: Int })),
  httpGet: Opt(Obj),
  tcpSocket: Opt(Obj),
});

const Container = Type.Object({
  name: Str,
  image: Opt(Str),
  command: Opt(Type.Array(Str)),
  args: Opt(Type.Array(Str)),
  ports: Opt(Type.Array(Type.Object({ containerPort: Int, name: Opt(Str), protocol: Opt(Str) }))),
  env: Opt(Type.Array(Type.Object({ name: Str, value: Opt(Str), valueFrom: Opt(Obj) }))),
  envFrom: Opt(Type.Array(Obj)),
  lifecycle: Opt(Type.Object({ preStop: Opt(Handler), postStart: Opt(Handler) })),
  readinessProbe: Opt(Obj),
  livenessProbe: Opt(Obj),
  startupProbe: Opt(Obj),
  restartPolicy: Opt(Str),
  volumeMounts: Opt(Type.Array(Type.Object({ name: Str, mountPath: Str }))),
});

export const PodSpecShape = Type.Object({
  containers: Type.Array(Container, { minItems: 1 }),
  initContainers: Opt(Type.Array(Container)),
  terminationGracePeriodSeconds: Opt(Int),
  restartPolicy: Opt(Str),
  volumes: Opt(
    Type.Array(Type.Object({ name: Str, persistentVolumeClaim: Opt(Type.Object({ claimName: Str })) })),
  ),
});

const Meta = Type.Object({
  name: Opt(Str),
  generateName: Opt(Str),
  namespace: Opt(Str),
  labels: Opt(Type.Record(Str, Str)),
  annotations: Opt(Type.Record(Str, Str)),
});

const Template = Type.Object({ metadata: Opt(Meta), spec: PodSpecShape });

const ControllerSpec = Type.Object({
  replicas: Opt(Int),
  serviceName: Opt(Str),
  strategy: Opt(
    Type.Object({
      type: Opt(Str),
      rollingUpdate: Opt(Type.Object({ maxUnavailable: Opt(IntOrString), maxSurge: Opt(IntOrString) })),
    }),
  ),
  volumeClaimTemplates: Opt(Type.Array(Obj)),
  template: Template,
});

export const shapes = {
  Pod: TypeCompiler.Compile(Type.Object({ metadata: Opt(Meta), spec: PodSpecShape })),
  Controller: TypeCompiler.Compile(Type.Object({ metadata: Opt(Meta), spec: ControllerSpec })),
  CronJob: TypeCompiler.Compile(
    Type.Object({
      metadata: Opt(Meta),
      spec: Type.Object({ jobTemplate: Type.Object({ metadata: Opt(Meta), spec: ControllerSpec }) }),
    }),
  ),
};
