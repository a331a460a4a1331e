/** The kubelet release the mock kubelet presents itself as (metrics, /configz neighbours). */
export const KUBELET_VERSION = {
  major: '1',
  minor: '36',
  gitVersion: 'v1.36.0',
  gitCommit: '0b8a8f1e2d7c4b9e6f3a5d1c8e7b2a9f4c6d3e10',
  buildDate: '2026-04-22T10:12:33Z',
  goVersion: 'go1.25.8',
  platform: 'linux/amd64',
} as const;
