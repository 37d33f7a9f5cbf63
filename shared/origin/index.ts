// The origin: R2 for blobs and atomically updated documents, KV for token records.
export { ObjectStore, type OriginObject, type StoredDocument } from "./object-store";
export { TokenStore, type TokenRecord, type Scope } from "./token-store";
