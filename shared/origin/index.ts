// The origin: R2 for blobs and atomically updated documents, KV for token records.
export { ObjectStore, type OriginObject, type ResolvedObject, type StoredDocument } from "./object-store";
export { BlobWriter, MAX_WHOLE_BYTES, PART_BYTES, newUpload, type FinishResult, type UploadState } from "./blob-writer";
export { TokenStore, type TokenRecord, type Scope } from "./token-store";
