import type { Logger } from 'pino';

/** The Lease as the elector reads and writes it (coordination.k8s.io/v1). */
export interface LeaseRecord {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: Date;
    renewTime?: Date;
    leaseTransitions?: number;
  };
}

/** The Lease calls: the API server in production (lease-api.ts), a variable in unit tests. */
export interface LeaseApi {
  /** undefined when there is no Lease yet. */
  read(): Promise<LeaseRecord | undefined>;
  /** Fails (409) when someone created it first. */
  create(lease: LeaseRecord): Promise<LeaseRecord>;
  /** Conditional on metadata.resourceVersion (409 when someone wrote in between). */
  replace(lease: LeaseRecord): Promise<LeaseRecord>;
}

export interface ElectorOptions {
  api: LeaseApi;
  name: string;
  namespace: string;
  /** This replica: unique per process (hostname and a random suffix). */
  identity: string;
  /** Another replica takes over a Lease nobody renewed for this long. */
  leaseDurationMs: number;
  /** How often the Lease is read and, when held, renewed. */
  retryMs: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  logger: Logger;
  now?: () => number;
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the holder renews the
 * Lease every `retryMs`; another replica takes it over only when it has seen the same resourceVersion for
 * `leaseDurationMs` (its own clock, so clock skew between nodes does not matter); writes are conditional on the
 * resourceVersion, so two replicas never both win. A holder that cannot renew for `leaseDurationMs` steps down.
 * stop() releases a held Lease so another replica takes over at once.
 */
export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private observed: { resourceVersion: string; at: number } | undefined;
  private lastRenewal = 0;
  private latest: LeaseRecord | undefined;
  private ticking: Promise<void> | undefined;
  private failures = 0;
  private readonly now: () => number;

  constructor(private readonly options: ElectorOptions) {
    this.now = options.now ?? Date.now;
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    if (!this.leading) return;
    this.leading = false;
    const lease = this.latest;
    if (lease) {
      try {
        // Released as client-go releases: no holder, so the next replica takes it at its next try.
        await this.options.api.replace({ ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new Date(this.now()) } });
      } catch (err) {
        this.options.logger.debug({ error: (err as Error).message }, 'could not release the report scan lease');
      }
    }
    this.options.onStoppedLeading();
  }

  /** One round: acquire, renew or watch the Lease (exported for tests through tick()). */
  async tick(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
      this.failures = 0;
    } catch (err) {
      // A 409 is another replica winning a race: ordinary. Anything else (RBAC, a bad request) is said once a streak.
      const conflict = (err as { status?: number }).status === 409 || /\bHTTP 409\b/.test((err as Error).message);
      const fields = { error: (err as Error).message, leading: this.leading };
      if (!conflict && this.failures++ === 0) this.options.logger.warn(fields, 'report scan lease: could not read or write it; retrying');
      else this.options.logger.debug(fields, 'report scan lease: could not read or write it');
    }
    if (this.leading && this.now() - this.lastRenewal > this.options.leaseDurationMs) {
      this.options.logger.warn({ lease: this.options.name }, 'report scan lease not renewed in time: stopping the scan');
      this.stepDown();
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(this.options.retryMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { api, identity, name, namespace } = this.options;
    const now = this.now();
    const spec = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000), renewTime: new Date(now) };
    const lease = await api.read();
    if (this.stopped) return;
    if (!lease) {
      const created = await api.create({ metadata: { name, namespace }, spec: { ...spec, acquireTime: new Date(now), leaseTransitions: 0 } });
      this.held(created, now);
      return;
    }
    const rv = lease.metadata.resourceVersion ?? '';
    if (this.observed?.resourceVersion !== rv) this.observed = { resourceVersion: rv, at: now };
    const holder = lease.spec.holderIdentity;
    if (holder && holder !== identity && now - this.observed.at < this.options.leaseDurationMs) {
      if (this.leading) this.stepDown(); // someone else holds it now
      return;
    }
    const next: LeaseRecord = { metadata: lease.metadata, spec: { ...lease.spec, ...spec } };
    if (holder !== identity) {
      next.spec.acquireTime = new Date(now);
      next.spec.leaseTransitions = (lease.spec.leaseTransitions ?? 0) + 1;
    }
    this.held(await api.replace(next), now);
  }

  private held(lease: LeaseRecord, at: number): void {
    this.latest = lease;
    this.observed = { resourceVersion: lease.metadata.resourceVersion ?? '', at };
    this.lastRenewal = at;
    if (this.leading || this.stopped) return;
    this.leading = true;
    this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity }, 'report scan lease acquired: this replica scans');
    this.options.onStartedLeading();
  }

  private stepDown(): void {
    this.leading = false;
    this.latest = undefined;
    this.options.onStoppedLeading();
  }
}
