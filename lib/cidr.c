/*
 * cidr - IPv4/IPv6 address ranges (see cidr.h).
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "error_slot.h"

static __thread struct error_slot cidr_error;

static const unsigned char cidr_v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* cidr_parse_ip - inet_pton for either family into addr[16];
   the family (4 or 6), or 0 when text is no address */
static unsigned int cidr_parse_ip(const char *text, unsigned char addr[16])
{
	if (inet_pton(AF_INET, text, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return 6;
	return 0;
}

/* cidr_parse_bits - a decimal prefix length <= max, or -1 */
static int cidr_parse_bits(const char *text, unsigned int max)
{
	unsigned int bits = 0;

	if (*text == '\0' || strlen(text) > 3)
		return -1;
	for (; *text != '\0'; text++) {
		if (!isdigit((unsigned char)*text))
			return -1;
		bits = bits * 10 + (unsigned int)(*text - '0');
	}
	return bits <= max ? (int)bits : -1;
}

/* cidr_prefix_equal - are the first bits bits of a and b equal? */
static bool cidr_prefix_equal(const unsigned char *a,
				     const unsigned char *b, unsigned int bits)
{
	unsigned int whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

int cidr_parse(const char *text, struct cidr *cidr_r,
		     const char **error_r)
{
	const char *slash = strchr(text, '/');
	char host[64];
	size_t host_len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned int max_bits, i;
	int bits;

	memset(cidr_r, 0, sizeof(*cidr_r));
	if (host_len >= sizeof(host)) {
		*error_r = error_slot_set(&cidr_error,
					  "Invalid IP address: %s", text);
		return -1;
	}
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	cidr_r->family = cidr_parse_ip(host, cidr_r->addr);
	if (cidr_r->family == 0) {
		*error_r = error_slot_set(&cidr_error,
					  "Invalid IP address: %s", text);
		return -1;
	}
	max_bits = cidr_r->family == 4 ? 32 : 128;
	bits = slash == NULL ? (int)max_bits :
		cidr_parse_bits(slash + 1, max_bits);
	if (bits < 0) {
		*error_r = error_slot_set(&cidr_error,
			"Invalid CIDR prefix length in %s (want 0..%u)",
			text, max_bits);
		return -1;
	}
	cidr_r->bits = (unsigned int)bits;
	/* clear the host bits so that equal ranges compare equal */
	for (i = cidr_r->bits; i < max_bits; i++)
		cidr_r->addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	return 0;
}

bool cidr_match(const struct cidr *cidr, const char *ip_text)
{
	unsigned char addr[16], mapped[16];
	unsigned int family;

	if (ip_text == NULL || *ip_text == '\0')
		return false;
	family = cidr_parse_ip(ip_text, addr);
	if (family == 0)
		return false;
	if (family == 6 && cidr->family == 4) {
		if (memcmp(addr, cidr_v4_mapped_prefix, 12) != 0)
			return false;
		return cidr_prefix_equal(addr + 12, cidr->addr,
						cidr->bits);
	}
	if (family == 4 && cidr->family == 6) {
		memcpy(mapped, cidr_v4_mapped_prefix, 12);
		memcpy(mapped + 12, addr, 4);
		return cidr_prefix_equal(mapped, cidr->addr, cidr->bits);
	}
	return cidr_prefix_equal(addr, cidr->addr, cidr->bits);
}

/* cidr_list_next - the next entry of *list into buf; false at the end */
static bool cidr_list_next(const char **list, char *buf, size_t size)
{
	const char *p = *list + strspn(*list, " \t,");
	size_t len = strcspn(p, " \t,");

	if (len == 0)
		return false;
	snprintf(buf, size, "%.*s", (int)len, p);
	*list = p + len;
	return true;
}

bool cidr_list_match(const char *list, const char *ip_text)
{
	struct cidr range;
	const char *error;
	char entry[128];

	while (cidr_list_next(&list, entry, sizeof(entry))) {
		if (cidr_parse(entry, &range, &error) == 0 &&
		    cidr_match(&range, ip_text))
			return true;
	}
	return false;
}

int cidr_list_check(const char *list, const char **error_r)
{
	struct cidr range;
	char entry[128];

	while (cidr_list_next(&list, entry, sizeof(entry))) {
		if (cidr_parse(entry, &range, error_r) < 0)
			return -1;
	}
	return 0;
}
