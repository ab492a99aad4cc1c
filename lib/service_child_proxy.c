/*
 * service_child_proxy - the HAProxy PROXY protocol header (v1 text, v2
 * binary) that a load balancer sends ahead of the client's bytes on
 * listeners with `haproxy = yes`, parsed without I/O so a caller can feed
 * it whatever arrived so far (see service_child.h). Supported: v1 TCP4,
 * TCP6 and UNKNOWN; v2 PROXY over TCP4/TCP6/UNSPEC and LOCAL; v2 TLVs are
 * skipped.
 */
#include "service_child.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "error_slot.h"

#define PROXY_V1_PREFIX "PROXY "
#define PROXY_V2_HEADER_SIZE 16
#define PROXY_V2_CMD_LOCAL 0x0
#define PROXY_V2_CMD_PROXY 0x1
#define PROXY_V2_FAM_UNSPEC 0x00
#define PROXY_V2_FAM_TCP4 0x11
#define PROXY_V2_FAM_TCP6 0x21
#define PROXY_V2_TCP4_SIZE 12
#define PROXY_V2_TCP6_SIZE 36

static const unsigned char proxy_v2_signature[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
};

static __thread struct error_slot service_child_proxy_error;

/* proxy_invalid - set *error_r and return -1 */
static int proxy_invalid(const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static int proxy_invalid(const char **error_r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	*error_r = error_slot_vset(&service_child_proxy_error, fmt, args);
	va_end(args);
	return -1;
}

/* proxy_v1_port - a decimal port 0-65535 */
static bool proxy_v1_port(const char *str, unsigned int *port_r)
{
	size_t len = strlen(str);
	unsigned int value = 0;

	if (len == 0 || len > 5 || strspn(str, "0123456789") != len)
		return false;
	for (size_t i = 0; i < len; i++)
		value = value * 10 + (unsigned int)(str[i] - '0');
	*port_r = value;
	return value <= 65535;
}

/* proxy_v1_address - a textual address of family into out */
static bool proxy_v1_address(int family, const char *str, char *out,
			     size_t out_size)
{
	unsigned char addr[16];

	if (strlen(str) >= out_size || inet_pton(family, str, addr) != 1)
		return false;
	memcpy(out, str, strlen(str) + 1);
	return true;
}

/* proxy_v1_line - "PROXY TCP4 SRC DST SPORT DPORT" without CRLF */
static int proxy_v1_line(char *line, struct proxy_header *hdr,
			 const char **error_r)
{
	char *words[7], *save = NULL;
	size_t count = 0;

	for (char *w = strtok_r(line, " ", &save); w != NULL && count < 7;
	     w = strtok_r(NULL, " ", &save))
		words[count++] = w;
	if (count >= 2 && strcmp(words[1], "UNKNOWN") == 0) {
		hdr->local = true;
		hdr->family = AF_UNSPEC;
		return 1;
	}
	if (count < 2 || (strcmp(words[1], "TCP4") != 0 &&
			  strcmp(words[1], "TCP6") != 0))
		return proxy_invalid(error_r, "v1: unknown protocol");
	hdr->family = words[1][3] == '4' ? AF_INET : AF_INET6;
	if (count != 6)
		return proxy_invalid(error_r, "v1: expected 4 fields after %s", words[1]);
	if (!proxy_v1_address(hdr->family, words[2], hdr->src_ip, sizeof(hdr->src_ip)) ||
	    !proxy_v1_address(hdr->family, words[3], hdr->dst_ip, sizeof(hdr->dst_ip)))
		return proxy_invalid(error_r, "v1: invalid %s address", words[1]);
	if (!proxy_v1_port(words[4], &hdr->src_port) ||
	    !proxy_v1_port(words[5], &hdr->dst_port))
		return proxy_invalid(error_r, "v1: invalid port");
	return 1;
}

/* proxy_v1 - the text form; buf starts with 'P' */
static int proxy_v1(const unsigned char *buf, size_t len,
		    struct proxy_header *hdr, size_t *consumed_r,
		    const char **error_r)
{
	size_t prefix = strlen(PROXY_V1_PREFIX);
	/* the CR is at most at the 106th byte: CRLF included, the line
	   is at most SERVICE_CHILD_PROXY_V1_MAX bytes */
	size_t cr_max = SERVICE_CHILD_PROXY_V1_MAX - 1;
	size_t max = len < cr_max ? len : cr_max;
	char line[SERVICE_CHILD_PROXY_V1_MAX + 1];
	size_t end;

	if (memcmp(buf, PROXY_V1_PREFIX, len < prefix ? len : prefix) != 0)
		return proxy_invalid(error_r, "not a PROXY header");
	for (end = 0; end < max; end++) {
		if (buf[end] == '\n')
			return proxy_invalid(error_r, "v1: line ends without CR");
		if (buf[end] == '\r')
			break;
		if (buf[end] < 0x20 || buf[end] > 0x7e)
			return proxy_invalid(error_r, "v1: invalid character");
	}
	if (end == max)
		return len >= cr_max ?
			proxy_invalid(error_r, "v1: line too long") : 0;
	if (end + 1 == len)
		return 0;
	if (buf[end + 1] != '\n')
		return proxy_invalid(error_r, "v1: CR without LF");
	hdr->version = 1;
	memcpy(line, buf, end);
	line[end] = '\0';
	if (proxy_v1_line(line, hdr, error_r) < 0)
		return -1;
	*consumed_r = end + 2;
	return 1;
}

/* proxy_v2_addresses - the TCP4/TCP6 address block at p */
static void proxy_v2_addresses(const unsigned char *p, int family,
			       struct proxy_header *hdr)
{
	size_t alen = family == AF_INET ? 4 : 16;

	hdr->family = family;
	inet_ntop(family, p, hdr->src_ip, sizeof(hdr->src_ip));
	inet_ntop(family, p + alen, hdr->dst_ip, sizeof(hdr->dst_ip));
	hdr->src_port = ((unsigned int)p[2 * alen] << 8) | p[2 * alen + 1];
	hdr->dst_port = ((unsigned int)p[2 * alen + 2] << 8) | p[2 * alen + 3];
}

/* proxy_v2 - the binary form; buf starts with '\r' */
static int proxy_v2(const unsigned char *buf, size_t len,
		    struct proxy_header *hdr, size_t *consumed_r,
		    const char **error_r)
{
	size_t sig = sizeof(proxy_v2_signature), total, need;
	unsigned int cmd;
	unsigned char fam;

	if (memcmp(buf, proxy_v2_signature, len < sig ? len : sig) != 0)
		return proxy_invalid(error_r, "not a PROXY header");
	if (len <= sig)
		return 0;
	cmd = buf[12] & 0x0f;
	if ((buf[12] >> 4) != 2)
		return proxy_invalid(error_r, "v2: unsupported version %u", buf[12] >> 4);
	if (cmd != PROXY_V2_CMD_LOCAL && cmd != PROXY_V2_CMD_PROXY)
		return proxy_invalid(error_r, "v2: unknown command %u", cmd);
	if (len == 13)
		return 0;
	fam = buf[13];
	if (cmd == PROXY_V2_CMD_PROXY && fam != PROXY_V2_FAM_UNSPEC &&
	    fam != PROXY_V2_FAM_TCP4 && fam != PROXY_V2_FAM_TCP6)
		return proxy_invalid(error_r, "v2: unsupported address family 0x%02x", fam);
	if (len < PROXY_V2_HEADER_SIZE)
		return 0;
	total = PROXY_V2_HEADER_SIZE + (((size_t)buf[14] << 8) | buf[15]);
	if (total > SERVICE_CHILD_PROXY_MAX_SIZE)
		return proxy_invalid(error_r, "v2: header of %zu bytes is too long", total);
	need = fam == PROXY_V2_FAM_TCP4 ? PROXY_V2_TCP4_SIZE :
		fam == PROXY_V2_FAM_TCP6 ? PROXY_V2_TCP6_SIZE : 0;
	if (cmd == PROXY_V2_CMD_PROXY && total - PROXY_V2_HEADER_SIZE < need)
		return proxy_invalid(error_r, "v2: address block too short");
	if (len < total)
		return 0;
	hdr->version = 2;
	if (cmd == PROXY_V2_CMD_LOCAL || fam == PROXY_V2_FAM_UNSPEC) {
		hdr->local = true;
		hdr->family = AF_UNSPEC;
	} else {
		proxy_v2_addresses(buf + PROXY_V2_HEADER_SIZE,
				   fam == PROXY_V2_FAM_TCP4 ? AF_INET : AF_INET6, hdr);
	}
	*consumed_r = total;
	return 1;
}

int service_child_proxy_parse(const unsigned char *buf, size_t len,
			      struct proxy_header *hdr_r, size_t *consumed_r,
			      const char **error_r)
{
	memset(hdr_r, 0, sizeof(*hdr_r));
	*consumed_r = 0;
	if (len == 0)
		return 0;
	if (buf[0] == 'P')
		return proxy_v1(buf, len, hdr_r, consumed_r, error_r);
	if (buf[0] == proxy_v2_signature[0])
		return proxy_v2(buf, len, hdr_r, consumed_r, error_r);
	return proxy_invalid(error_r, "not a PROXY header");
}
