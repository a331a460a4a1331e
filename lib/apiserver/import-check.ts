import { refuseIncompatibleClientNode } from './client-node.js';

// Imported first by every entry point: a Node.js / client-node pair that cannot work fails the
// import with one clear error, before anything could load client-node and crash inside it.
refuseIncompatibleClientNode();
