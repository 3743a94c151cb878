export { sweepColdStores } from './cold-store';
export { deliverDocument } from './document';
export { endpointEntity } from './endpoint';
export { pendingNotification } from './notification';
export { endpointEmail } from './suspension';
export { operatorEvent } from './operator';
export { restoreDocuments } from './restore';
