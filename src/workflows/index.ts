export { sweepColdStores } from './cold-store';
export { deliverDocument } from './document';
export { endpointEntity } from './endpoint/entity';
export { pendingNotification } from './endpoint/pending-notification';
export { endpointEmail } from './endpoint/email';
export { operatorEvent } from './operator';
export { restoreDocuments } from './restore';
export { eventTypeCatalog } from './event-types';
