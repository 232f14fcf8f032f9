// Imports core and the file system backend and opens a store: timed from outside, whole process.
const [{ ModelStore }, { FileSystemStorage }] = await Promise.all([import('@modelstore/core'), import('@modelstore/storage-fs')]);
const store = new ModelStore({ storage: new FileSystemStorage({ root: process.argv[2] }) });
await store.listDomains();
