/*
 * certctl: the public API of the certificate lifecycle library.
 * Include this header only; it pulls in every module.
 */
#ifndef CERTCTL_H
#define CERTCTL_H

#include "certctl/common.h"
#include "certctl/buf.h"
#include "certctl/secret.h"
#include "certctl/util.h"
#include "certctl/node.h"
#include "certctl/repo.h"
#include "certctl/settings.h"
#include "certctl/txn.h"
#include "certctl/key.h"
#include "certctl/cert.h"
#include "certctl/definition.h"
#include "certctl/ca.h"
#include "certctl/history.h"
#include "certctl/fsck.h"
#include "certctl/json.h"
#include "certctl/trust.h"
#include "certctl/acquire.h"
#include "certctl/keystore.h"
#include "certctl/import.h"
#include "certctl/probe.h"
#include "certctl/deploy.h"
#include "certctl/check.h"
#include "certctl/notify.h"
#include "certctl/status.h"
#include "certctl/discover.h"
#include "certctl/verify.h"

#endif
