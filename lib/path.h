/*
 * path - small path helpers shared by the config parser and storage.
 */
#ifndef LOFT_PATH_H
#define LOFT_PATH_H

/* path_dirname - a new string with the directory part of path: "." when
   it has no '/', "/" for a file in the root */
char *path_dirname(const char *path);

/* path_mkdir_parents - create the absolute directory path and its missing
   parents with mode (an existing one is fine). 0, or -1 with *error_r
   ("mkdir(DIR) failed: ...", thread-local storage) */
int path_mkdir_parents(const char *path, unsigned int mode,
		       const char **error_r);

#endif
