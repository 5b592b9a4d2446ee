// Messages between the lag dashboard's extension side and its webview (both import this file).
import type { LagPoint } from '../core/labs/lagSeries';
import type { WorkshopAlertRule } from '../core/labs/alerts';

export interface DashboardSeries {
  readonly key: string;
  readonly label: string;
}

export interface DashboardStrings {
  readonly bytesTitle: string;
  readonly secondsTitle: string;
  /** With {0} for the threshold in seconds. */
  readonly alertAbove: string;
  readonly firing: string;
  readonly ok: string;
}

export type ToWebview =
  | {
      readonly type: 'init';
      readonly series: readonly DashboardSeries[];
      readonly lagSecondsThreshold: number;
      readonly windowMs: number;
      readonly points: readonly LagPoint[];
      readonly labels: Readonly<Record<string, string>>;
      /** The chart's words in the user's language (the webview has no vscode.l10n). */
      readonly strings: DashboardStrings;
    }
  | { readonly type: 'point'; readonly point: LagPoint }
  | { readonly type: 'alerts'; readonly rules: readonly WorkshopAlertRule[]; readonly summary: string };

export type FromWebview =
  | { readonly type: 'ready' }
  /** `drawn`: the labels of the series the charts draw now (one per replica). */
  | { readonly type: 'received'; readonly points: number; readonly drawn: readonly string[] };
