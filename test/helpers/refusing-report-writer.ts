/** A report writer whose next `refusals` syncs fail as if the API server were away, then write through. */
import type { ReportWriter } from '../../src/reports/writer.js';

export class RefusingReportWriter implements Pick<ReportWriter, 'sync' | 'refresh'> {
  refusals = 0;

  constructor(
    private readonly real: ReportWriter,
    private readonly error = 'HTTP 503: the server is currently unable to handle the request',
  ) {}

  refresh(): Promise<void> {
    return this.real.refresh();
  }

  async sync(...args: Parameters<ReportWriter['sync']>): ReturnType<ReportWriter['sync']> {
    if (this.refusals > 0) {
      this.refusals--;
      throw new Error(this.error);
    }
    return this.real.sync(...args);
  }
}
