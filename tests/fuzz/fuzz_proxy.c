/*
 * fuzz_proxy - libFuzzer target for the HAProxy PROXY v1/v2 header parser
 * (lib/service_child_proxy.c), which reads the first bytes of every
 * connection on a `haproxy = yes` listener. Checked: never more consumed
 * than given, nor more than SERVICE_CHILD_PROXY_MAX_SIZE; a parsed header
 * has version 1 or 2, NUL-terminated addresses that inet_pton accepts
 * for its family, ports below 65536; an error has a message. Fed byte by
 * byte, every prefix of the input answers 0 ("incomplete") until the
 * whole input's verdict appears, at the same length and with the same
 * header (the "0 = incomplete, every byte is header" contract the LMTP
 * server's read loop relies on); prefixes of a complete header never
 * fail.
 */
#include "fuzz_util.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "service_child.h"

/* check_header - a complete header's fields */
static void check_header(const struct proxy_header *hdr)
{
	unsigned char addr[16];

	FUZZ_CHECK(hdr->version == 1 || hdr->version == 2);
	if (hdr->local) {
		FUZZ_CHECK(hdr->family == AF_UNSPEC);
		return;
	}
	FUZZ_CHECK(hdr->family == AF_INET || hdr->family == AF_INET6);
	FUZZ_CHECK(memchr(hdr->src_ip, '\0', sizeof(hdr->src_ip)) != NULL);
	FUZZ_CHECK(memchr(hdr->dst_ip, '\0', sizeof(hdr->dst_ip)) != NULL);
	FUZZ_CHECK(inet_pton(hdr->family, hdr->src_ip, addr) == 1);
	FUZZ_CHECK(inet_pton(hdr->family, hdr->dst_ip, addr) == 1);
	FUZZ_CHECK(hdr->src_port <= 65535 && hdr->dst_port <= 65535);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header whole, part;
	size_t consumed, part_consumed;
	const char *error = NULL;
	int ret, part_ret;

	ret = service_child_proxy_parse(data, size, &whole, &consumed, &error);
	FUZZ_CHECK(ret >= -1 && ret <= 1);
	if (ret == 1) {
		FUZZ_CHECK(consumed > 0 && consumed <= size);
		FUZZ_CHECK(consumed <= SERVICE_CHILD_PROXY_MAX_SIZE);
		FUZZ_CHECK(whole.version != 1 ||
			   consumed <= SERVICE_CHILD_PROXY_V1_MAX);
		check_header(&whole);
	} else if (ret == 0) {
		FUZZ_CHECK(consumed == 0);
		FUZZ_CHECK(size < SERVICE_CHILD_PROXY_MAX_SIZE);
	} else {
		FUZZ_CHECK(error != NULL && *error != '\0');
	}
	/* the same bytes as they trickle in */
	for (size_t len = 0; len <= size; len++) {
		part_ret = service_child_proxy_parse(data, len, &part,
						     &part_consumed, &error);
		if (part_ret == 0) {
			FUZZ_CHECK(part_consumed == 0);
			continue;
		}
		if (part_ret == 1) {
			/* done at the first length that holds the header */
			FUZZ_CHECK(ret == 1 && part_consumed == consumed &&
				   len == consumed);
			FUZZ_CHECK(memcmp(&part, &whole, sizeof(part)) == 0);
		} else {
			FUZZ_CHECK(ret == -1);
		}
		break;
	}
	return 0;
}
