import { describePushQueueContract } from '../../ports/contract/push-queue.contract.js';
import { MemoryPushQueue } from './memory-push-queue.js';

describePushQueueContract('memory', async () => {
  // Memory queues are per process: "several nodes" share one queue object.
  const shared = new MemoryPushQueue();
  return { open: async () => shared, cleanup: () => shared.close() };
});
