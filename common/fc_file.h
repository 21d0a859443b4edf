/*
 * fc_file: file operations fleetcap needs the same way everywhere.
 */
#ifndef FC_FILE_H
#define FC_FILE_H

/*
 * Renames from to to, both relative to dirfd (or AT_FDCWD), never replacing
 * an existing to: renameat2(RENAME_NOREPLACE), or on a file system without it
 * a hard link and an unlink, which refuse to replace too. Returns 0, or -1
 * with errno (EEXIST when to exists).
 */
int fc_rename_noreplace(int dirfd, const char *from, const char *to);

#endif
