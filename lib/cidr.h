/*
 * cidr - IPv4/IPv6 address ranges: "192.0.2.0/24", "2001:db8::/32", a
 * bare address as a full-length prefix. Used by who/kick filters and by
 * the settings that trust networks (haproxy_trusted_networks).
 */
#ifndef LOFT_CIDR_H
#define LOFT_CIDR_H

#include <stdbool.h>

/* An address range: family is 4 or 6, addr holds 4 or 16 bytes in network
   order with the bits after `bits` cleared. */
struct cidr {
	unsigned int family;
	unsigned char addr[16];
	unsigned int bits;
};

/* cidr_parse - "192.0.2.0/24", "2001:db8::/32", "::1/128"; a bare
   address is a full-length prefix (/32, /128). Host bits after the prefix
   are accepted and cleared ("10.1.2.3/8" = 10.0.0.0/8). 0, or -1 with
   *error_r (valid until this thread's next cidr error). */
int cidr_parse(const char *text, struct cidr *cidr_r, const char **error_r);
/* cidr_match - is the address ip_text inside cidr? An IPv4-mapped IPv6
   address (::ffff:192.0.2.1) matches IPv4 ranges and a plain IPv4 address
   matches ::ffff:0:0/96-style ranges. NULL, empty or unparsable ip_text
   never matches. */
bool cidr_match(const struct cidr *cidr, const char *ip_text);
/* cidr_list_match - does ip_text fall in one of the ranges of list
   (separated by spaces or commas)? Entries that do not parse match
   nothing (check them with cidr_list_check). */
bool cidr_list_match(const char *list, const char *ip_text);
/* cidr_list_check - 0 when every entry of list parses, else -1 with
   *error_r */
int cidr_list_check(const char *list, const char **error_r);

#endif
