export { deliverDocument } from './deliver-document';
export { endpointEntity } from './endpoint-entity';
