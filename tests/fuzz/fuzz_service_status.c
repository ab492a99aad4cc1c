/*
 * fuzz_service_status - libFuzzer target for the status records a service
 * process sends loftd on fd 4 (lib/service_child.c): a record of any
 * length is decoded as loftd decodes it. Checked: only a record of exactly
 * SERVICE_CHILD_STATUS_SIZE bytes decodes, and it re-encodes to the same
 * bytes (every bit pattern is a record: no field is lost or invented); a
 * decoded record encodes back to an equal struct.
 */
#include "fuzz_util.h"

#include "service_child.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service_child_status status, again;
	unsigned char buf[SERVICE_CHILD_STATUS_SIZE];

	memset(&status, 0xa5, sizeof(status));
	if (service_child_status_decode(data, size, &status) < 0) {
		FUZZ_CHECK(size != SERVICE_CHILD_STATUS_SIZE);
		return 0;
	}
	FUZZ_CHECK(size == SERVICE_CHILD_STATUS_SIZE);
	service_child_status_encode(&status, buf);
	FUZZ_CHECK(memcmp(buf, data, SERVICE_CHILD_STATUS_SIZE) == 0);
	FUZZ_CHECK(service_child_status_decode(buf, sizeof(buf), &again) == 0);
	FUZZ_CHECK(again.pid == status.pid && again.available == status.available &&
		   again.served == status.served);
	return 0;
}
