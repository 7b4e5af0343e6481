/*
 * Tests of cc_buf, the growable byte buffer (lib/buf.c).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "certctl.h"
#include "suites.h"

START_TEST(test_buf_init_reads_as_empty_string)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_ptr_null(buf.ptr);
	ck_assert_uint_eq(buf.size, 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "");
}
END_TEST

START_TEST(test_buf_put_appends_bytes_and_terminates)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_put(&buf, "abc", 3), 0);
	ck_assert_int_eq(cc_buf_put(&buf, "defXX", 3), 0);
	ck_assert_uint_eq(buf.size, 6);
	ck_assert_str_eq(cc_buf_cstr(&buf), "abcdef");
	ck_assert_int_eq(buf.ptr[buf.size], '\0');
	ck_assert_uint_gt(buf.asize, buf.size);
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_put_keeps_embedded_nul_bytes)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_put(&buf, "a\0b", 3), 0);
	ck_assert_uint_eq(buf.size, 3);
	ck_assert_mem_eq(buf.ptr, "a\0b", 3);
	ck_assert_int_eq(buf.ptr[3], '\0');
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_put_zero_bytes_leaves_buffer_empty)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_put(&buf, "", 0), 0);
	ck_assert_uint_eq(buf.size, 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "");
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_puts_and_putc_append_text)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_puts(&buf, "key"), 0);
	ck_assert_int_eq(cc_buf_putc(&buf, ':'), 0);
	ck_assert_int_eq(cc_buf_putc(&buf, ' '), 0);
	ck_assert_int_eq(cc_buf_puts(&buf, "value"), 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "key: value");
	ck_assert_uint_eq(buf.size, strlen("key: value"));
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_printf_formats_and_appends)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_printf(&buf, "%s=%d", "port", 443), 0);
	ck_assert_int_eq(cc_buf_printf(&buf, ", %05.1f%%", 2.5), 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "port=443, 002.5%");
	ck_assert_uint_eq(buf.size, strlen("port=443, 002.5%"));
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_printf_grows_past_the_first_allocation)
{
	cc_buf buf = CC_BUF_INIT;
	char *big = malloc(100001);

	ck_assert_ptr_nonnull(big);
	memset(big, 'z', 100000);
	big[100000] = '\0';
	ck_assert_int_eq(cc_buf_puts(&buf, "<"), 0);
	ck_assert_int_eq(cc_buf_printf(&buf, "%s>", big), 0);
	ck_assert_uint_eq(buf.size, 100002);
	ck_assert_int_eq(buf.ptr[0], '<');
	ck_assert_int_eq(buf.ptr[100000], 'z');
	ck_assert_int_eq(buf.ptr[100001], '>');
	ck_assert_int_eq(buf.ptr[100002], '\0');
	free(big);
	cc_buf_dispose(&buf);
}
END_TEST

static int vprintf_through(cc_buf *buf, const char *fmt, ...) CC_PRINTF(2, 3);
static int vprintf_through(cc_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cc_buf_vprintf(buf, fmt, ap);
	va_end(ap);
	return rc;
}

START_TEST(test_buf_vprintf_takes_a_va_list)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(vprintf_through(&buf, "%s:%u", "host", 8443u), 0);
	ck_assert_int_eq(vprintf_through(&buf, "%s", ""), 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "host:8443");
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_grow_reserves_without_changing_contents)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_puts(&buf, "ab"), 0);
	ck_assert_int_eq(cc_buf_grow(&buf, 1000), 0);
	ck_assert_uint_ge(buf.asize, 1003);
	ck_assert_uint_eq(buf.size, 2);
	ck_assert_str_eq(cc_buf_cstr(&buf), "ab");
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_grow_of_empty_buffer_still_reads_as_empty_string)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_grow(&buf, 100), 0);
	ck_assert_uint_eq(buf.size, 0);
	/* one byte only: garbage would make an unbounded message */
	ck_assert_msg(cc_buf_cstr(&buf)[0] == '\0',
		      "cc_buf_cstr() after cc_buf_grow() is not \"\" (first byte 0x%02x)",
		      (unsigned char)cc_buf_cstr(&buf)[0]);
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_grow_refuses_impossible_sizes)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_puts(&buf, "x"), 0);
	ck_assert_int_lt(cc_buf_grow(&buf, SIZE_MAX), 0);
	ck_assert_int_lt(cc_buf_grow(&buf, SIZE_MAX - 1), 0);
	/* the buffer is untouched */
	ck_assert_str_eq(cc_buf_cstr(&buf), "x");
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_clear_empties_but_keeps_memory)
{
	cc_buf buf = CC_BUF_INIT;
	char *ptr;
	size_t asize;

	ck_assert_int_eq(cc_buf_puts(&buf, "something"), 0);
	ptr = buf.ptr;
	asize = buf.asize;
	cc_buf_clear(&buf);
	ck_assert_uint_eq(buf.size, 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "");
	ck_assert_ptr_eq(buf.ptr, ptr);
	ck_assert_uint_eq(buf.asize, asize);
	ck_assert_int_eq(cc_buf_puts(&buf, "new"), 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "new");
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_clear_of_empty_buffer_is_harmless)
{
	cc_buf buf = CC_BUF_INIT;

	cc_buf_clear(&buf);
	ck_assert_uint_eq(buf.size, 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "");
}
END_TEST

START_TEST(test_buf_detach_hands_memory_to_caller)
{
	cc_buf buf = CC_BUF_INIT;
	char *text;

	ck_assert_int_eq(cc_buf_puts(&buf, "owned"), 0);
	text = cc_buf_detach(&buf);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "owned");
	ck_assert_ptr_null(buf.ptr);
	ck_assert_uint_eq(buf.size, 0);
	ck_assert_uint_eq(buf.asize, 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "");
	free(text);
	/* the buffer can be used again */
	ck_assert_int_eq(cc_buf_puts(&buf, "again"), 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "again");
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_buf_detach_of_empty_buffer_gives_empty_string_or_null)
{
	cc_buf buf = CC_BUF_INIT;
	char *text = cc_buf_detach(&buf);

	if (text)
		ck_assert_str_eq(text, "");
	ck_assert_ptr_null(buf.ptr);
	ck_assert_uint_eq(buf.size, 0);
	free(text);
}
END_TEST

START_TEST(test_buf_dispose_resets_and_is_idempotent)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_puts(&buf, "abc"), 0);
	cc_buf_dispose(&buf);
	ck_assert_ptr_null(buf.ptr);
	ck_assert_uint_eq(buf.size, 0);
	ck_assert_uint_eq(buf.asize, 0);
	cc_buf_dispose(&buf);
	ck_assert_ptr_null(buf.ptr);
}
END_TEST

START_TEST(test_buf_dispose_secure_resets_buffer)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_eq(cc_buf_puts(&buf, "hunter2"), 0);
	cc_buf_dispose_secure(&buf);
	ck_assert_ptr_null(buf.ptr);
	ck_assert_uint_eq(buf.size, 0);
	ck_assert_uint_eq(buf.asize, 0);
	cc_buf_dispose_secure(&buf);
	ck_assert_ptr_null(buf.ptr);
}
END_TEST

Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_buf_init_reads_as_empty_string);
	tcase_add_test(tc, test_buf_put_appends_bytes_and_terminates);
	tcase_add_test(tc, test_buf_put_keeps_embedded_nul_bytes);
	tcase_add_test(tc, test_buf_put_zero_bytes_leaves_buffer_empty);
	tcase_add_test(tc, test_buf_puts_and_putc_append_text);
	tcase_add_test(tc, test_buf_printf_formats_and_appends);
	tcase_add_test(tc, test_buf_printf_grows_past_the_first_allocation);
	tcase_add_test(tc, test_buf_vprintf_takes_a_va_list);
	tcase_add_test(tc, test_buf_grow_reserves_without_changing_contents);
	tcase_add_test(tc, test_buf_grow_of_empty_buffer_still_reads_as_empty_string);
	tcase_add_test(tc, test_buf_grow_refuses_impossible_sizes);
	tcase_add_test(tc, test_buf_clear_empties_but_keeps_memory);
	tcase_add_test(tc, test_buf_clear_of_empty_buffer_is_harmless);
	tcase_add_test(tc, test_buf_detach_hands_memory_to_caller);
	tcase_add_test(tc, test_buf_detach_of_empty_buffer_gives_empty_string_or_null);
	tcase_add_test(tc, test_buf_dispose_resets_and_is_idempotent);
	tcase_add_test(tc, test_buf_dispose_secure_resets_buffer);
	suite_add_tcase(s, tc);
	return s;
}
