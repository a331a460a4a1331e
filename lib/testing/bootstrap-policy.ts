/**
 * The part of Kubernetes' bootstrap RBAC policy that callers of a kubelet or an API meet, as
 * kube-apiserver v1.34 creates it with its default feature gates (KubeletFineGrainedAuthz and
 * DynamicResourceAllocation on). Taken from upstream's bootstrap policy and its testdata
 * (cluster-roles.yaml, cluster-role-bindings.yaml, namespace-roles.yaml); only these roles and
 * bindings are here.
 */

/** The Kubernetes version whose bootstrap roles `policy.defaults` loads. */
export const BOOTSTRAP_POLICY_VERSION = 'v1.34';

const V1 = 'rbac.authorization.k8s.io/v1';
const DEFAULTS_LABEL = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

interface Rule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  nonResourceURLs?: string[];
}

const rule = (verbs: string[], apiGroups: string[], resources: string[]): Rule => ({
  apiGroups,
  resources,
  verbs,
});
const urls = (verbs: string[], nonResourceURLs: string[]): Rule => ({ nonResourceURLs, verbs });

function clusterRole(
  name: string,
  rules: Rule[],
  labels: Record<string, string> = {},
  aggregateTo?: string,
): object {
  const role: Record<string, unknown> = {
    apiVersion: V1,
    kind: 'ClusterRole',
    metadata: {
      name,
      labels: { ...DEFAULTS_LABEL, ...labels },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    rules,
  };
  if (aggregateTo) {
    role['aggregationRule'] = {
      clusterRoleSelectors: [
        { matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${aggregateTo}`]: 'true' } },
      ],
    };
  }
  return role;
}

/** A Role kube-apiserver creates in a namespace (namespace-roles.yaml). */
function namespaceRole(namespace: string, name: string, rules: object[]): object {
  return {
    apiVersion: V1,
    kind: 'Role',
    metadata: {
      name,
      namespace,
      labels: DEFAULTS_LABEL,
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    rules,
  };
}

function groupBinding(role: string, groups: string[]): object {
  return {
    apiVersion: V1,
    kind: 'ClusterRoleBinding',
    metadata: {
      name: role,
      labels: DEFAULTS_LABEL,
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: groups.map((name) => ({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Group',
      name,
    })),
  };
}

const toAdmin = { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' };
const toEdit = { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' };
const toView = { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' };

/** The bootstrap ClusterRoles, ClusterRoleBindings and Roles, as RBAC objects. */
export function bootstrapPolicyObjects(): object[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', [], {}, 'admin'),
    clusterRole('edit', [], toAdmin, 'edit'),
    clusterRole('view', [], toEdit, 'view'),
    clusterRole(
      'system:aggregate-to-admin',
      [
        rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
        rule(READ_WRITE, ['rbac.authorization.k8s.io'], ['rolebindings', 'roles']),
      ],
      toAdmin,
    ),
    clusterRole(
      'system:aggregate-to-edit',
      [
        rule(
          READ,
          [''],
          [
            'pods/attach',
            'pods/exec',
            'pods/portforward',
            'pods/proxy',
            'secrets',
            'services/proxy',
          ],
        ),
        rule(['impersonate'], [''], ['serviceaccounts']),
        rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
        rule(['create'], [''], ['pods/eviction']),
        rule(
          WRITE,
          [''],
          [
            'configmaps',
            'events',
            'persistentvolumeclaims',
            'replicationcontrollers',
            'replicationcontrollers/scale',
            'secrets',
            'serviceaccounts',
            'services',
            'services/proxy',
          ],
        ),
        rule(['create'], [''], ['serviceaccounts/token']),
        rule(
          WRITE,
          ['apps'],
          [
            'daemonsets',
            'deployments',
            'deployments/rollback',
            'deployments/scale',
            'replicasets',
            'replicasets/scale',
            'statefulsets',
            'statefulsets/scale',
          ],
        ),
        rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
        rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
        rule(
          WRITE,
          ['extensions'],
          [
            'daemonsets',
            'deployments',
            'deployments/rollback',
            'deployments/scale',
            'ingresses',
            'networkpolicies',
            'replicasets',
            'replicasets/scale',
            'replicationcontrollers/scale',
          ],
        ),
        rule(WRITE, ['policy'], ['poddisruptionbudgets']),
        rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
        rule(READ_WRITE, ['coordination.k8s.io'], ['leases']),
        rule(WRITE, ['resource.k8s.io'], ['resourceclaims', 'resourceclaimtemplates']),
      ],
      toEdit,
    ),
    clusterRole(
      'system:aggregate-to-view',
      [
        rule(
          READ,
          [''],
          [
            'configmaps',
            'endpoints',
            'persistentvolumeclaims',
            'persistentvolumeclaims/status',
            'pods',
            'replicationcontrollers',
            'replicationcontrollers/scale',
            'serviceaccounts',
            'services',
            'services/status',
          ],
        ),
        rule(
          READ,
          [''],
          [
            'bindings',
            'events',
            'limitranges',
            'namespaces/status',
            'pods/log',
            'pods/status',
            'replicationcontrollers/status',
            'resourcequotas',
            'resourcequotas/status',
          ],
        ),
        rule(READ, [''], ['namespaces']),
        rule(READ, ['discovery.k8s.io'], ['endpointslices']),
        rule(
          READ,
          ['apps'],
          [
            'controllerrevisions',
            'daemonsets',
            'daemonsets/status',
            'deployments',
            'deployments/scale',
            'deployments/status',
            'replicasets',
            'replicasets/scale',
            'replicasets/status',
            'statefulsets',
            'statefulsets/scale',
            'statefulsets/status',
          ],
        ),
        rule(
          READ,
          ['autoscaling'],
          ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'],
        ),
        rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
        rule(
          READ,
          ['extensions'],
          [
            'daemonsets',
            'daemonsets/status',
            'deployments',
            'deployments/scale',
            'deployments/status',
            'ingresses',
            'ingresses/status',
            'networkpolicies',
            'replicasets',
            'replicasets/scale',
            'replicasets/status',
            'replicationcontrollers/scale',
          ],
        ),
        rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
        rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
        rule(
          READ,
          ['resource.k8s.io'],
          ['resourceclaims', 'resourceclaims/status', 'resourceclaimtemplates'],
        ),
      ],
      toView,
    ),
    clusterRole('system:auth-delegator', [
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
    clusterRole('system:discovery', [
      urls(
        ['get'],
        [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ],
      ),
    ]),
    clusterRole('system:public-info-viewer', [
      urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/']),
    ]),
    clusterRole('system:kubelet-api-admin', [
      rule(READ, [''], ['nodes']),
      rule(['proxy'], [''], ['nodes']),
      rule(['*'], [''], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats']),
      rule(['*'], [''], ['nodes/configz', 'nodes/healthz', 'nodes/pods']),
    ]),
    groupBinding('cluster-admin', ['system:masters']),
    groupBinding('system:discovery', ['system:authenticated']),
    groupBinding('system:public-info-viewer', ['system:authenticated', 'system:unauthenticated']),
    // What aggregated API servers need to read the cluster's authentication configuration.
    namespaceRole('kube-system', 'extension-apiserver-authentication-reader', [
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['extension-apiserver-authentication'],
        verbs: READ,
      },
    ]),
  ];
}
