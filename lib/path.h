/*
 * path - small path helpers shared by the config parser and storage.
 */
#ifndef LOFT_PATH_H
#define LOFT_PATH_H

/* path_dirname - a new string with the directory part of path: "." when
   it has no '/', "/" for a file in the root */
char *path_dirname(const char *path);

#endif
