// Where PyPI objects live at the origin (R2). The cache objects built from them are in objects.ts.
//
//   pypi/
//   ├── index/<project>                        marker: the project exists (what /simple/ lists)
//   └── projects/<project>/                    <project> is the PEP 503 normalised name
//       ├── project.json                       the project document: every file, its hashes,
//       │                                      requires-python, yank, upload time, status. The
//       │                                      commit point: a file is served only while listed
//       └── files/<upload-id>/<filename>       one uploaded file, under the id of the upload
//           └── <filename>.metadata            a wheel's METADATA, byte for byte (PEP 658)
//
// Each upload writes under its own id, so two uploads racing for one file name never write the
// same object, and a crashed upload's leftovers are never under a name the document lists.

export const INDEX_PREFIX = "pypi/index/";
export const indexObject = (project: string) => `${INDEX_PREFIX}${project}`;
export const projectObject = (project: string) => `pypi/projects/${project}/project.json`;
export const fileObject = (project: string, uploadId: string, filename: string) => `pypi/projects/${project}/files/${uploadId}/${filename}`;
export const metadataObject = (project: string, uploadId: string, filename: string) => `${fileObject(project, uploadId, filename)}.metadata`;

// A project not hosted here, as mirrored from PYPI_UPSTREAM (workers/pypi/upstream.ts), apart
// from hosted ones:
//   upstream/pypi/projects/<project>/project.json       the upstream page as a project document
//   upstream/pypi/projects/<project>/files/<filename>   a file, verified against its sha256
//   upstream/pypi/projects/<project>/files/<filename>.metadata
export const upstreamProjectObject = (project: string) => `upstream/pypi/projects/${project}/project.json`;
export const upstreamFileObject = (project: string, filename: string) => `upstream/pypi/projects/${project}/files/${filename}`;
