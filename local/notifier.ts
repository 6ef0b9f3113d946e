// The local stand-in for the alert topic: prints each alert and appends it as one JSON line to a file,
// so a run without AWS still shows, and keeps, what would have been published.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What the state machine's SNS task publishes. */
export interface Alert {
  readonly subject: string;
  readonly message: string;
  readonly executionId: string;
}

export interface PublishedAlert extends Alert {
  readonly publishedAt: string;
}

export class LocalNotifier {
  readonly published: PublishedAlert[] = [];

  constructor(
    private readonly alertsFile: string | undefined,
    private readonly print: (line: string) => void = (line) => console.error(line),
  ) {}

  async publish(alert: Alert): Promise<void> {
    const published = { ...alert, publishedAt: new Date().toISOString() };
    this.published.push(published);
    this.print(`ALERT ${alert.subject}: ${alert.message}`);
    if (this.alertsFile !== undefined) {
      await mkdir(dirname(this.alertsFile), { recursive: true });
      await appendFile(this.alertsFile, `${JSON.stringify(published)}\n`);
    }
  }
}
