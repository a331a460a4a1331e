/**
 * Canned log lines for `/containerLogs/...`, in the style of each demo container, spread evenly
 * from the container's start until now, so `tailLines`, `sinceSeconds` and `timestamps` behave
 * the way they do against real CRI logs.
 */
import type { DemoContainer } from './node-model.js';

export interface LogLine {
  time: Date;
  text: string;
}

const LINE_COUNT = 60;

export function containerLogLines(container: DemoContainer, startedAt: Date, now: Date): LogLine[] {
  const span = Math.max(1, now.getTime() - startedAt.getTime());
  return Array.from({ length: LINE_COUNT }, (_, i) => {
    const time = new Date(startedAt.getTime() + Math.floor((span * i) / LINE_COUNT));
    return { time, text: lineFor(container, i, time) };
  });
}

function lineFor(container: DemoContainer, i: number, time: Date): string {
  const klogTime = `${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())} ${time.toISOString().slice(11, 23)}000`;
  switch (container.logStyle) {
    case 'kube-proxy':
      return i === 0
        ? `I${klogTime}       1 server_linux.go:66] "Using iptables proxy"`
        : `I${klogTime}       1 proxier.go:${800 + (i % 7)}] "SyncProxyRules complete" elapsed="${(40 + (i % 13)).toString()}.1ms"`;
    case 'coredns':
      return i === 0
        ? '.:53'
        : `[INFO] 10.244.0.${(i % 9) + 2}:${40000 + i} - ${1000 + i} "A IN web.default.svc.cluster.local. udp 47 false 512" NOERROR qr,aa,rd 94 0.000${(100 + i).toString()}s`;
    case 'nginx': {
      const clf = time
        .toUTCString()
        .replace(/^\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1/$2/$3:$4 +0000');
      return `10.244.0.1 - - [${clf}] "GET ${i % 5 === 0 ? '/healthz' : '/'} HTTP/1.1" 200 ${i % 5 === 0 ? 2 : 615} "-" "kube-probe/1.36"`;
    }
    case 'shipper':
      return `shipped ${i * 12} lines from /var/log/nginx/access.log`;
    case 'node-exporter':
      return `time=${time.toISOString()} level=INFO source=node_exporter.go:141 msg="Listening on" address=[::]:9100`;
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
