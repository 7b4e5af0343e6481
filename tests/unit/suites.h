/*
 * The unit suites, one per library module; main.c runs them all.
 */
#ifndef CERTCTL_TEST_SUITES_H
#define CERTCTL_TEST_SUITES_H

#include <check.h>

Suite *error_suite(void);
Suite *buf_suite(void);
Suite *util_suite(void);
Suite *fs_suite(void);
Suite *secret_suite(void);
Suite *node_suite(void);
Suite *key_suite(void);
Suite *repo_suite(void);
Suite *txn_suite(void);
Suite *definition_suite(void);
Suite *history_suite(void);
Suite *fsck_suite(void);
Suite *ca_suite(void);
Suite *acquire_suite(void);
Suite *keystore_suite(void);
Suite *verify_suite(void);

#endif
