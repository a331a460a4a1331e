import {
  watchConfigMap,
  type ConfigMapFailure,
  type ConfigMapWatch,
} from '../../apiserver/config-map-watch.js';
import { KubeletAuthError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { CABundle } from '../ca-bundle.js';
import {
  LiveRequestHeaderSettings,
  type RequestHeaderSettingsSource,
} from '../request-header-settings.js';
import { CONFIG_MAP_KEYS, readClusterAuthentication, type Part } from './config-map.js';
import { resolveClusterAuthentication, type ClusterAuthenticationOptions } from './options.js';

/** The Role kube-apiserver creates in kube-system to let readers get, list and watch the ConfigMap. */
const READER_ROLE = 'extension-apiserver-authentication-reader';

/**
 * The cluster's authentication configuration, as aggregated API servers read it with
 * k8s.io/apiserver: the ConfigMap `kube-system/extension-apiserver-authentication` that
 * kube-apiserver writes, read through `@kubernetes/client-node` and watched, so that a rotated
 * client CA or front-proxy configuration takes effect without a restart.
 *
 * - {@link ClusterAuthentication.clientCA} (`client-ca-file`) is a `bundle` for
 *   `ClientCertStrategy`;
 * - {@link ClusterAuthentication.requestHeaderCA} (`requestheader-client-ca-file`) and
 *   {@link ClusterAuthentication.requestHeader} (the `requestheader-*` lists) are the `bundle` and
 *   `settings` of `RequestHeaderAuthenticator`.
 *
 * Each part is replaced in one step when a change arrives: a request is authenticated with the
 * old configuration or the new, never a mix, and none is refused for the change. A part that
 * cannot be read (a malformed CA bundle or JSON list) is logged and the last good one kept. Until
 * a part is first read, its bundle is empty: client certificates and front proxies are refused
 * (fail closed), while tokens still work. A missing ConfigMap is not an error, as upstream: it is
 * watched for. Any other failure of the first read (forbidden, unreachable) rejects
 * {@link ClusterAuthentication.ready}, unless `tolerateLookupFailure`; reading goes on in the
 * background with a backoff either way. {@link ClusterAuthentication.close} stops it.
 *
 * @example
 * const cluster = new ClusterAuthentication({ kubeConfig });
 * await cluster.ready; // throws when the ConfigMap cannot be read (RBAC, API server down)
 * passport.use(new RequestHeaderAuthenticator({ bundle: cluster.requestHeaderCA, settings: cluster.requestHeader }));
 * passport.use(new ClientCertStrategy({ bundle: cluster.clientCA }));
 */
export class ClusterAuthentication {
  /** The CAs of client certificates (`client-ca-file`); empty until read. */
  readonly clientCA: CABundle;
  /** The CAs of front proxies' certificates (`requestheader-client-ca-file`); empty until read. */
  readonly requestHeaderCA: CABundle;
  /** The `requestheader-*` settings; none (no front proxy names a user) until read. */
  readonly requestHeader: RequestHeaderSettingsSource;
  /**
   * Settles when the first read is done: resolves when the ConfigMap was read or found missing
   * (or the failure tolerated), rejects with a `KubeletAuthError` (`ERR_CLUSTER_AUTHENTICATION`)
   * when it could not be read. Await it before serving to fail at start-up as upstream does;
   * left alone, a rejection is logged and not thrown.
   */
  readonly ready: Promise<void>;
  private readonly settings = new LiveRequestHeaderSettings();
  private readonly where: string;
  private readonly logger: Required<Logger>;
  private readonly watch: ConfigMapWatch;
  private settle: ((error?: Error) => void) | undefined;
  private version = '';
  /** The ConfigMap was last seen missing (not found, or deleted). */
  private gone = false;
  /** The problem last told for each part, so that it is told once while it lasts. */
  private readonly problems = { clientCA: '', requestHeader: '' };

  constructor(options: ClusterAuthenticationOptions = {}) {
    const resolved = resolveClusterAuthentication(options, 'ClusterAuthentication');
    const { namespace, name, tolerateLookupFailure } = resolved;
    this.where = `configmap ${namespace}/${name}`;
    this.logger = resolved.logger;
    this.clientCA = CABundle.empty(`${this.where}: ${CONFIG_MAP_KEYS.clientCA}`);
    this.requestHeaderCA = CABundle.empty(`${this.where}: ${CONFIG_MAP_KEYS.requestHeaderCA}`);
    this.requestHeader = this.settings;
    this.ready = new Promise<void>((resolve, reject) => {
      this.settle = (error) => {
        this.settle = undefined;
        if (error) reject(error);
        else resolve();
      };
    });
    // Logged where it happens; whoever awaits `ready` gets the rejection too.
    this.ready.catch(() => undefined);
    this.watch = watchConfigMap({
      kubeConfig: resolved.kubeConfig,
      namespace,
      name,
      timeoutMs: resolved.timeoutMs,
      logger: this.logger,
      events: {
        onConfigMap: (data, resourceVersion) => {
          this.gone = false;
          this.apply(data, resourceVersion);
          this.settle?.();
        },
        onMissing: (how) => {
          this.missing(how);
          this.settle?.();
        },
        onFailure: (failure) => this.failed(failure, tolerateLookupFailure),
        onRecovered: () => this.logger.info(`${this.where}: read again`),
      },
    });
  }

  /** The resourceVersion of the ConfigMap last read; `''` before. */
  get resourceVersion(): string {
    return this.version;
  }

  /** Stops reading and watching the ConfigMap; the configuration read last stays in force. */
  close(): void {
    this.watch.close();
  }

  /** Tells (once while it lasts) that the ConfigMap is not there, and what stays in force. */
  private missing(how: 'not-found' | 'deleted'): void {
    if (this.gone) return;
    this.gone = true;
    this.logger.warn(
      this.version === ''
        ? `${this.where}: not found; client certificates and front proxies are refused until it exists (watching for it)`
        : `${this.where}: ${how === 'deleted' ? 'deleted' : 'not found'}; keeping the configuration read last, and watching for a new one`,
    );
  }

  private failed(failure: ConfigMapFailure, tolerate: boolean): void {
    const problem = `${this.where}: cannot be ${failure.during === 'read' ? 'read' : 'watched'} (${failure.reason})${failure.status === 403 ? `: bind the Role ${READER_ROLE} in kube-system to this client` : ''}`;
    if (this.settle === undefined) {
      this.logger.warn(`${problem}; trying again`);
    } else if (tolerate) {
      this.logger.warn(
        `${problem}; carrying on (tolerateLookupFailure): client certificates and front proxies are refused until it is read`,
      );
      this.settle();
    } else {
      this.logger.error(
        `${problem}; client certificates and front proxies are refused until it is read (set tolerateLookupFailure to start anyway)`,
      );
      this.settle(new KubeletAuthError('ERR_CLUSTER_AUTHENTICATION', problem));
    }
  }

  /** Takes each part of the ConfigMap that can be read, and keeps the last good one of the others. */
  private apply(data: Readonly<Record<string, string>>, resourceVersion: string): void {
    this.version = resourceVersion;
    const { clientCA, requestHeader } = readClusterAuthentication(data);
    const loaded: string[] = [];
    if (this.usable('clientCA', CONFIG_MAP_KEYS.clientCA, clientCA)) {
      if (this.clientCA.update(clientCA.value.pem)) {
        loaded.push(`${CONFIG_MAP_KEYS.clientCA} (${count(clientCA.value.certificates)})`);
      }
    }
    if (this.usable('requestHeader', CONFIG_MAP_KEYS.requestHeaderCA, requestHeader)) {
      const { ca, settings } = requestHeader.value;
      // Both in the same step: no request sees the new CA with the old names, or the reverse.
      const caChanged = this.requestHeaderCA.update(ca.pem);
      if (this.settings.set(settings) || caChanged) {
        loaded.push(
          `${CONFIG_MAP_KEYS.requestHeaderCA} (${count(ca.certificates)}) and the requestheader-* settings`,
        );
      }
    }
    if (loaded.length > 0) {
      this.logger.info(
        `${this.where}: loaded ${loaded.join(', ')} from resourceVersion ${resourceVersion}`,
      );
    }
  }

  /** Whether `part` can be taken; tells (once) why not, naming `key`. */
  private usable<T>(
    which: 'clientCA' | 'requestHeader',
    key: string,
    part: Part<T>,
  ): part is { kind: 'valid'; value: T } {
    const problem =
      part.kind === 'valid'
        ? ''
        : part.kind === 'absent'
          ? `${this.where}: has no ${key}; keeping the one read last, if any`
          : `${this.where}: ${part.problem}; keeping the one read last, if any`;
    if (problem !== '' && problem !== this.problems[which]) {
      if (part.kind === 'absent') this.logger.info(problem);
      else this.logger.warn(problem);
    }
    this.problems[which] = problem;
    return part.kind === 'valid';
  }
}

function count(certificates: number): string {
  return `${certificates} certificate${certificates === 1 ? '' : 's'}`;
}
