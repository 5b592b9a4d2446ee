// What the extension's activate() returns to other extensions and to the extension-host tests.
import type { Services } from './services';

export interface ExtensionApi {
  /** The extension's services, once dist/main.js has loaded (activation itself loads nothing more). */
  services(): Promise<Services>;
}
