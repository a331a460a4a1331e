/**
 * `/spec/`: cAdvisor's `MachineInfo` (`github.com/google/cadvisor/info/v1`), which old kubelets
 * served and the original kubelet documentation lists; field names are cAdvisor's snake_case.
 */
import type { NodeModel } from './node-model.js';

type Json = Record<string, unknown>;

export function machineInfo(model: NodeModel, now: Date): Json {
  const coresPerSocket = model.cpuCores;
  return {
    timestamp: now.toISOString(),
    vendor_id: 'GenuineIntel',
    num_cores: model.cpuCores,
    num_physical_cores: model.cpuCores / 2,
    num_sockets: 1,
    cpu_frequency_khz: 2_800_000,
    memory_capacity: model.memoryCapacityBytes,
    swap_capacity: 0,
    memory_by_type: {},
    nvm: { memory_mode_capacity: 0, app_direct_mode_capacity: 0, avg_power_budget: 0 },
    hugepages: [
      { page_size: 1_048_576, num_pages: 0 },
      { page_size: 2048, num_pages: 0 },
    ],
    machine_id: model.machineID,
    system_uuid: model.systemUUID,
    boot_id: model.bootID,
    filesystems: [
      {
        device: '/dev/sda1',
        capacity: model.filesystemCapacityBytes,
        type: 'vfs',
        inodes: Math.round(model.filesystemCapacityBytes / 16_384),
        has_inodes: true,
      },
    ],
    disk_map: {
      '8:0': {
        name: 'sda',
        major: 8,
        minor: 0,
        size: model.filesystemCapacityBytes,
        scheduler: 'none',
      },
    },
    network_devices: [{ name: 'eth0', mac_address: '02:42:0a:00:00:0a', speed: 10000, mtu: 1500 }],
    topology: [
      {
        node_id: 0,
        memory: model.memoryCapacityBytes,
        hugepages: null,
        cores: Array.from({ length: coresPerSocket / 2 }, (_, core) => ({
          core_id: core,
          thread_ids: [core * 2, core * 2 + 1],
          caches: null,
          uncore_caches: null,
          socket_id: 0,
        })),
        caches: [{ id: 0, size: 16_777_216, type: 'Unified', level: 3 }],
      },
    ],
    cloud_provider: 'Unknown',
    instance_type: 'Unknown',
    instance_id: 'None',
  };
}
