#!/usr/bin/env python3
"""Run NIST PKITS (sections 4.1-4.8, 4.13, 4.14) through `certctl verify`.

    pkits.py CERTCTL PKITS_DIR RESULTS_TSV

PKITS_DIR holds certs/*.crt (DER) and crls/*.crl (DER), as Debian's
python3-cryptography-vectors ships them.  For each test this program finds
the end-entity certificate, builds the test's own path from the files (see
build_path and gather), runs

    certctl verify EE --policy rfc5280 --revocation hard --no-fetch \
        --ca TrustAnchorRootCertificate.crt --untrusted CERT... --crl CRL... \
        --at 2020-06-01T00:00:00Z --json

and prints one line per test:

    # 4.1.2 InvalidCASignatureTest2: expected invalid, got invalid (signature.invalid)

Every line of RESULTS_TSV is one test, tab-separated:

    section  title  id  name  expected  got  rules  path  skip-reason

with got "skip" (and a reason) for a test that is not run, and "-" for
an empty field (a shell's read would merge two tabs).  Counting,
the floor and the known failures are t0034-pkits.sh's business.

Standard library only: the DER it needs (names, key identifiers, CRL
distribution points) is parsed here, so that the test does not depend on
which Python packages the machine has.
"""
import json
import os
import re
import subprocess
import sys

# A time inside every PKITS validity period (the 2011 edition runs from
# 2010 to 2030), fixed so that the results do not change with the date.
AT = "2020-06-01T00:00:00Z"
ANCHOR = "TrustAnchorRootCertificate"

# --- the tests ---------------------------------------------------------------------------------
#
# Each section lists its tests' end-entity certificates (the file name
# without EE.crt) in PKITS order: the n-th is test <section>.<n>, and its
# name must end in Test<n> (checked).  The expected outcome is the
# Valid/Invalid prefix of the name, under PKITS's default settings
# (initial-policy-set any-policy, no initial-explicit-policy, no
# initial-policy-mapping-inhibit, no initial-any-policy-inhibit), which are
# certctl's: it has no option for the others.

SECTIONS = [
    ("4.1", "Signature Verification", """
        ValidCertificatePathTest1 InvalidCASignatureTest2 InvalidEESignatureTest3
        ValidDSASignaturesTest4 ValidDSAParameterInheritanceTest5 InvalidDSASignatureTest6"""),
    ("4.2", "Validity Periods", """
        InvalidCAnotBeforeDateTest1 InvalidEEnotBeforeDateTest2 Validpre2000UTCnotBeforeDateTest3
        ValidGeneralizedTimenotBeforeDateTest4 InvalidCAnotAfterDateTest5
        InvalidEEnotAfterDateTest6 Invalidpre2000UTCEEnotAfterDateTest7
        ValidGeneralizedTimenotAfterDateTest8"""),
    ("4.3", "Verifying Name Chaining", """
        InvalidNameChainingTest1 InvalidNameChainingOrderTest2 ValidNameChainingWhitespaceTest3
        ValidNameChainingWhitespaceTest4 ValidNameChainingCapitalizationTest5 ValidNameUIDsTest6
        ValidRFC3280MandatoryAttributeTypesTest7 ValidRFC3280OptionalAttributeTypesTest8
        ValidUTF8StringEncodedNamesTest9 ValidRolloverfromPrintableStringtoUTF8StringTest10
        ValidUTF8StringCaseInsensitiveMatchTest11"""),
    ("4.4", "Basic Certificate Revocation", """
        InvalidMissingCRLTest1 InvalidRevokedCATest2 InvalidRevokedEETest3
        InvalidBadCRLSignatureTest4 InvalidBadCRLIssuerNameTest5 InvalidWrongCRLTest6
        ValidTwoCRLsTest7 InvalidUnknownCRLEntryExtensionTest8 InvalidUnknownCRLExtensionTest9
        InvalidUnknownCRLExtensionTest10 InvalidOldCRLnextUpdateTest11
        Invalidpre2000CRLnextUpdateTest12 ValidGeneralizedTimeCRLnextUpdateTest13
        ValidNegativeSerialNumberTest14 InvalidNegativeSerialNumberTest15
        ValidLongSerialNumberTest16 ValidLongSerialNumberTest17 InvalidLongSerialNumberTest18
        ValidSeparateCertificateandCRLKeysTest19 InvalidSeparateCertificateandCRLKeysTest20
        InvalidSeparateCertificateandCRLKeysTest21"""),
    ("4.5", "Verifying Paths with Self-Issued Certificates", """
        ValidBasicSelfIssuedOldWithNewTest1 InvalidBasicSelfIssuedOldWithNewTest2
        ValidBasicSelfIssuedNewWithOldTest3 ValidBasicSelfIssuedNewWithOldTest4
        InvalidBasicSelfIssuedNewWithOldTest5 ValidBasicSelfIssuedCRLSigningKeyTest6
        InvalidBasicSelfIssuedCRLSigningKeyTest7 InvalidBasicSelfIssuedCRLSigningKeyTest8"""),
    ("4.6", "Verifying Basic Constraints", """
        InvalidMissingbasicConstraintsTest1 InvalidcAFalseTest2 InvalidcAFalseTest3
        ValidbasicConstraintsNotCriticalTest4 InvalidpathLenConstraintTest5
        InvalidpathLenConstraintTest6 ValidpathLenConstraintTest7 ValidpathLenConstraintTest8
        InvalidpathLenConstraintTest9 InvalidpathLenConstraintTest10
        InvalidpathLenConstraintTest11 InvalidpathLenConstraintTest12
        ValidpathLenConstraintTest13 ValidpathLenConstraintTest14
        ValidSelfIssuedpathLenConstraintTest15 InvalidSelfIssuedpathLenConstraintTest16
        ValidSelfIssuedpathLenConstraintTest17"""),
    ("4.7", "Key Usage", """
        InvalidkeyUsageCriticalkeyCertSignFalseTest1 InvalidkeyUsageNotCriticalkeyCertSignFalseTest2
        ValidkeyUsageNotCriticalTest3 InvalidkeyUsageCriticalcRLSignFalseTest4
        InvalidkeyUsageNotCriticalcRLSignFalseTest5"""),
    ("4.8", "Certificate Policies", """
        ValidCertificatePathTest1 AllCertificatesNoPoliciesTest2 DifferentPoliciesTest3
        DifferentPoliciesTest4 DifferentPoliciesTest5 OverlappingPoliciesTest6
        DifferentPoliciesTest7 DifferentPoliciesTest8 DifferentPoliciesTest9
        AllCertificatesSamePoliciesTest10 AllCertificatesanyPolicyTest11 DifferentPoliciesTest12
        AllCertificatesSamePoliciesTest13 AnyPolicyTest14 UserNoticeQualifierTest15
        UserNoticeQualifierTest16 UserNoticeQualifierTest17 UserNoticeQualifierTest18
        UserNoticeQualifierTest19 CPSPointerQualifierTest20"""),
    ("4.13", "Name Constraints", " ".join(
        "%snameConstraintsTest%d" % (kind, n) for n, kind in enumerate("""
        ValidDN InvalidDN InvalidDN ValidDN ValidDN ValidDN InvalidDN InvalidDN InvalidDN InvalidDN
        ValidDN InvalidDN InvalidDN ValidDN InvalidDN InvalidDN InvalidDN ValidDN ValidDN InvalidDN
        ValidRFC822 InvalidRFC822 ValidRFC822 InvalidRFC822 ValidRFC822 InvalidRFC822
        ValidDNandRFC822 InvalidDNandRFC822 InvalidDNandRFC822 ValidDNS InvalidDNS ValidDNS
        InvalidDNS ValidURI InvalidURI ValidURI InvalidURI InvalidDNS""".split(), 1))),
    ("4.14", "Distribution Points", """
        ValiddistributionPointTest1 InvaliddistributionPointTest2 InvaliddistributionPointTest3
        ValiddistributionPointTest4 ValiddistributionPointTest5 InvaliddistributionPointTest6
        ValiddistributionPointTest7 InvaliddistributionPointTest8 InvaliddistributionPointTest9
        ValidNoissuingDistributionPointTest10 InvalidonlyContainsUserCertsTest11
        InvalidonlyContainsCACertsTest12 ValidonlyContainsCACertsTest13
        InvalidonlyContainsAttributeCertsTest14 InvalidonlySomeReasonsTest15
        InvalidonlySomeReasonsTest16 InvalidonlySomeReasonsTest17 ValidonlySomeReasonsTest18
        ValidonlySomeReasonsTest19 InvalidonlySomeReasonsTest20 InvalidonlySomeReasonsTest21
        ValidIDPwithindirectCRLTest22 InvalidIDPwithindirectCRLTest23
        ValidIDPwithindirectCRLTest24 ValidIDPwithindirectCRLTest25
        InvalidIDPwithindirectCRLTest26 InvalidcRLIssuerTest27 ValidcRLIssuerTest28
        ValidcRLIssuerTest29 ValidcRLIssuerTest30 InvalidcRLIssuerTest31 InvalidcRLIssuerTest32
        ValidcRLIssuerTest33 InvalidcRLIssuerTest34 InvalidcRLIssuerTest35"""),
]

# Section 4.8 runs its tests with other settings too.  Most of its names
# carry no Valid/Invalid, so the outcome under the default settings comes
# from the PKITS document: its default-settings part where it has one
# (4.8.2.1, 4.8.3.1, 4.8.6.1, 4.8.10.3, 4.8.11.1) or the test itself (4.8.4,
# 4.8.5, 4.8.7-9, 4.8.12, 4.8.15-17, 4.8.19).  For 4.8.1, 4.8.13, 4.8.14,
# 4.8.18 and 4.8.20 PKITS names only narrower settings; the default ones
# are the most permissive (any policy acceptable, none required), so a path
# PKITS finds valid under one of those is valid under them: that is the
# expectation.  The parts with other settings run with certctl verify's
# --initial-policy and --explicit-policy, against the outcome PKITS gives.
P1, P2, P3 = "NIST-test-policy-1", "NIST-test-policy-2", "NIST-test-policy-3"
EXPLICIT = "initial-explicit-policy"
POLICIES_DEFAULT = {
    2: "valid", 3: "valid", 4: "invalid", 5: "invalid", 6: "valid", 7: "invalid",
    8: "invalid", 9: "invalid", 10: "valid", 11: "valid", 12: "invalid", 13: "valid",
    14: "valid", 15: "valid", 16: "valid", 17: "valid", 18: "valid", 19: "valid", 20: "valid",
}
POLICIES_SETTINGS = [
    ("4.8.1.1", EXPLICIT, "valid"),
    ("4.8.1.2", "initial-policy-set {%s}, %s" % (P1, EXPLICIT), "valid"),
    ("4.8.1.3", "initial-policy-set {%s}, %s" % (P2, EXPLICIT), "invalid"),
    ("4.8.1.4", "initial-policy-set {%s, %s}, %s" % (P1, P2, EXPLICIT), "valid"),
    ("4.8.2.2", EXPLICIT, "invalid"),
    ("4.8.3.2", EXPLICIT, "invalid"),
    ("4.8.3.3", "initial-policy-set {%s, %s}, %s" % (P1, P2, EXPLICIT), "invalid"),
    ("4.8.6.2", "initial-policy-set {%s}" % P1, "valid"),
    ("4.8.6.3", "initial-policy-set {%s}" % P2, "invalid"),
    ("4.8.10.1", "initial-policy-set {%s}" % P1, "valid"),
    ("4.8.10.2", "initial-policy-set {%s}" % P2, "valid"),
    ("4.8.11.2", "initial-policy-set {%s}" % P1, "valid"),
    ("4.8.13.1", "initial-policy-set {%s}" % P1, "valid"),
    ("4.8.13.2", "initial-policy-set {%s}" % P2, "valid"),
    ("4.8.13.3", "initial-policy-set {%s}" % P3, "valid"),
    ("4.8.14.1", "initial-policy-set {%s}" % P1, "valid"),
    ("4.8.14.2", "initial-policy-set {%s}" % P2, "invalid"),
    ("4.8.18.1", "initial-policy-set {%s}" % P1, "valid"),
    ("4.8.18.2", "initial-policy-set {%s}" % P2, "valid"),
    ("4.8.20", EXPLICIT, "valid"),
]


POLICY_OIDS = {P1: "2.16.840.1.101.3.2.1.48.1", P2: "2.16.840.1.101.3.2.1.48.2",
               P3: "2.16.840.1.101.3.2.1.48.3"}


def settings_argv(setting):
    """certctl verify's options for a PKITS setting ("initial-policy-set {...}, ...")."""
    argv = []
    m = re.search(r"initial-policy-set \{([^}]*)\}", setting)
    if m:
        for name in m.group(1).split(","):
            argv += ["--initial-policy", POLICY_OIDS[name.strip()]]
    if EXPLICIT in setting:
        argv.append("--explicit-policy")
    return argv


def expected_of(section, number, name):
    if section == "4.8" and number in POLICIES_DEFAULT:
        return POLICIES_DEFAULT[number]
    if name.startswith("Invalid"):
        return "invalid"
    if name.startswith("Valid"):
        return "valid"
    raise SystemExit("pkits.py: %s.%d %s: no Valid/Invalid and no expectation" %
                     (section, number, name))


# --- just enough DER ----------------------------------------------------------------------------

def tlv(data, off):
    """The element at `off`: (tag, content start, content end)."""
    tag = data[off]
    length = data[off + 1]
    off += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[off:off + count], "big")
        off += count
    if off + length > len(data):
        raise ValueError("truncated DER")
    return tag, off, off + length


def children(data, start, end):
    """The elements inside [start, end): (tag, start, end, whole start)."""
    out = []
    while start < end:
        tag, s, e = tlv(data, start)
        out.append((tag, s, e, start))
        start = e
    return out


OID_SKI = bytes.fromhex("551d0e")
OID_AKI = bytes.fromhex("551d23")
OID_CRLDP = bytes.fromhex("551d1f")


def text_of(tag, raw):
    """A directory string's text (RFC 5280 7.1 compares these, not bytes)."""
    if tag in (0x0C, 0x13, 0x16, 0x1A):  # UTF8, Printable, IA5, Visible
        return raw.decode("utf-8", "replace")
    if tag == 0x14:  # Teletex, read as Latin-1 as most software does
        return raw.decode("latin-1")
    if tag == 0x1E:
        return raw.decode("utf-16-be", "replace")
    if tag == 0x1C:
        return raw.decode("utf-32-be", "replace")
    return None


def name_key(data, start, end):
    """A Name for comparison as RFC 5280 7.1 says: RDN by RDN, in order;
    inside each RDN the attributes as a set; strings case-folded with
    whitespace collapsed (RFC 4518 in short).  Other values compare as
    bytes."""
    rdns = []
    for _, s, e, _ in children(data, start, end):          # SET
        attrs = []
        for _, s2, e2, _ in children(data, s, e):           # SEQUENCE
            (_, os_, oe, _), (vt, vs, ve, vw) = children(data, s2, e2)[:2]
            text = text_of(vt, data[vs:ve])
            if text is None:
                value = ("raw", data[vw:ve])
            else:
                value = ("text", " ".join(text.split()).casefold())
            attrs.append((data[os_:oe], value))
        rdns.append(frozenset(attrs))
    return tuple(rdns)


def name_text(key):
    """A name key, readable (for messages)."""
    parts = []
    for rdn in key:
        parts.append("+".join(v[1] if v[0] == "text" else v[1].hex()
                              for _, v in sorted(rdn)))
    return "/".join(parts)


def extensions(data, start, end):
    """{oid bytes: (content start, content end)} of an extensions SEQUENCE."""
    out = {}
    for _, s, e, _ in children(data, start, end):
        parts = children(data, s, e)
        oid = data[parts[0][1]:parts[0][2]]
        value = parts[-1]  # extnValue, after the optional critical flag
        out[oid] = (value[1], value[2])
    return out


def aki_keyid(data, exts):
    if OID_AKI not in exts:
        return None
    s, e = exts[OID_AKI]
    _, s, e = tlv(data, s)  # AuthorityKeyIdentifier SEQUENCE
    for tag, cs, ce, _ in children(data, s, e):
        if tag == 0x80:  # [0] keyIdentifier
            return data[cs:ce]
    return None


def crl_issuer_names(data, exts):
    """The directory names of the cRLIssuer fields of the CRL distribution
    points: CRLs of other issuers that cover this certificate."""
    names = []
    if OID_CRLDP not in exts:
        return names
    s, e = exts[OID_CRLDP]
    _, s, e = tlv(data, s)
    for _, ds, de, _ in children(data, s, e):                 # DistributionPoint
        for tag, fs, fe, _ in children(data, ds, de):
            if tag != 0xA2:                                      # [2] cRLIssuer
                continue
            for gtag, gs, ge, _ in children(data, fs, fe):       # GeneralName
                if gtag == 0xA4:                                 # [4] directoryName
                    _, ns, ne = tlv(data, gs)
                    names.append(name_key(data, ns, ne))
    return names


class Cert:
    def __init__(self, path):
        self.path = path
        self.file = os.path.basename(path)
        data = open(path, "rb").read()
        _, s, e = tlv(data, 0)
        _, s, e = tlv(data, s)                                # tbsCertificate
        fields = children(data, s, e)
        if fields[0][0] == 0xA0:                              # [0] version
            fields = fields[1:]
        # serial, signature, issuer, validity, subject, spki, [1], [2], [3]
        self.issuer = name_key(data, fields[2][1], fields[2][2])
        self.subject = name_key(data, fields[4][1], fields[4][2])
        exts = {}
        for tag, fs, fe, _ in fields[6:]:
            if tag == 0xA3:
                _, xs, xe = tlv(data, fs)
                exts = extensions(data, xs, xe)
        self.ski = None
        if OID_SKI in exts:
            _, ks, ke = tlv(data, exts[OID_SKI][0])
            self.ski = data[ks:ke]
        self.aki = aki_keyid(data, exts)
        self.crl_issuers = crl_issuer_names(data, exts)


class Crl:
    def __init__(self, path):
        self.path = path
        self.file = os.path.basename(path)
        data = self.der = open(path, "rb").read()
        _, s, e = tlv(data, 0)
        _, s, e = tlv(data, s)                                # tbsCertList
        fields = children(data, s, e)
        if fields[0][0] == 0x02:                              # version
            fields = fields[1:]
        self.issuer = name_key(data, fields[1][1], fields[1][2])
        self.aki = None
        for tag, fs, fe, _ in fields:
            if tag == 0xA0:                                   # [0] crlExtensions
                _, xs, xe = tlv(data, fs)
                self.aki = aki_keyid(data, extensions(data, xs, xe))


# --- the path of each test -----------------------------------------------------------------------

class Pkits:
    def __init__(self, top):
        self.certs = [Cert(os.path.join(top, "certs", f))
                      for f in sorted(os.listdir(os.path.join(top, "certs")))
                      if f.endswith(".crt")]
        # A CRL filed twice (WrongCRLCACRL.crl is TrustAnchorRootCRL.crl,
        # byte for byte: the Trust Anchor's CRL in Wrong CRL CA's entry) is
        # handed over once, under its first name.
        self.crls, seen = [], set()
        for f in sorted(os.listdir(os.path.join(top, "crls"))):
            if f.endswith(".crl"):
                crl = Crl(os.path.join(top, "crls", f))
                if crl.der not in seen:
                    seen.add(crl.der)
                    self.crls.append(crl)
        self.by_file = {c.file: c for c in self.certs}
        self.anchor = self.by_file[ANCHOR + ".crt"]
        # Only CA certificates issue: an end-entity certificate of another
        # test is never a candidate issuer (its name is unique anyway).
        self.cas = [c for c in self.certs if not c.file.endswith("EE.crt")]

    def issuer_of(self, cert, exclude):
        """The certificate that issued `cert`, found the way a path builder
        finds it: the subject must be cert's issuer name (compared as RFC
        5280 7.1 says) and, when both carry them, the subject key identifier
        must be cert's authority key identifier.  Only when no certificate
        matches both (the name chaining tests 4.3.1 and 4.3.2 give an issuer
        name no CA has) is the key identifier alone taken, so that the
        verifier is handed the CA and must itself refuse the names.  More
        than one match is a mistake of this program: it stops."""
        def keys_match(c):
            return cert.aki is None or c.ski is None or c.ski == cert.aki

        pool = [c for c in self.cas if c is not cert and c not in exclude]
        found = [c for c in pool if c.subject == cert.issuer and keys_match(c)]
        if not found and cert.aki is not None:
            found = [c for c in pool if c.ski == cert.aki]
        if len(found) > 1:
            raise SystemExit("pkits.py: %s: %d candidate issuers: %s" %
                             (cert.file, len(found), " ".join(c.file for c in found)))
        return found[0] if found else None

    def build_path(self, cert):
        """cert, its issuer, ... up to the trust anchor (or as far as the
        files go: a path that does not reach it is the verifier's to reject)."""
        path = [cert]
        while path[-1] is not self.anchor:
            issuer = self.issuer_of(path[-1], path)
            if issuer is None:
                break
            path.append(issuer)
        return path

    def crls_for(self, cert, issuer):
        """The CRLs that may cover `cert`: those its issuer publishes (the
        issuer's name, or the issuer's key identifier under another name: a
        CRL with a wrong issuer name is still handed over for the verifier
        to refuse), and those of the CRL issuers its distribution points
        name (indirect CRLs)."""
        names = set(cert.crl_issuers)
        if issuer is not None:
            names.add(issuer.subject)
        out = [l for l in self.crls if l.issuer in names]
        if issuer is not None and issuer.ski is not None:
            out += [l for l in self.crls if l.aki == issuer.ski and l not in out]
        return out

    def crl_signers(self, crl):
        """The certificates that may have signed `crl`: its issuer name and,
        when the CRL says, its key identifier (a CA may sign its CRLs with
        a key of its own, as in 4.4.19 and 4.5.6)."""
        return [c for c in self.cas if c.subject == crl.issuer and
                (crl.aki is None or c.ski is None or c.ski == crl.aki)]

    def gather(self, ee):
        """Everything the test of `ee` needs and nothing else: the path to
        the anchor, the CRLs that cover each certificate of it, and for each
        such CRL the certificates that signed it with their own paths and
        CRLs, until nothing new comes in.  Returns (path, untrusted certs,
        CRLs)."""
        path = self.build_path(ee)
        certs, crls = [], []
        todo = [path]
        while todo:
            chain = todo.pop()
            for i, cert in enumerate(chain):
                if cert is self.anchor:
                    continue
                if cert is not ee and cert not in certs:
                    certs.append(cert)
                issuer = chain[i + 1] if i + 1 < len(chain) else None
                for crl in self.crls_for(cert, issuer):
                    if crl in crls:
                        continue
                    crls.append(crl)
                    for signer in self.crl_signers(crl):
                        if signer not in certs and signer is not self.anchor:
                            todo.append(self.build_path(signer))
        return path, certs, crls


# --- running -------------------------------------------------------------------------------------

def verify(certctl, top, ee, certs, crls, settings=()):
    argv = [certctl, "verify", ee.path, "--policy", "rfc5280", "--revocation", "hard",
            "--no-fetch", "--ca", os.path.join(top, "certs", ANCHOR + ".crt"),
            "--at", AT, "--json"] + list(settings)
    for c in certs:
        argv += ["--untrusted", c.path]
    for l in crls:
        argv += ["--crl", l.path]
    run = subprocess.run(argv, capture_output=True, text=True)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        return "error", "exit %d: %s" % (run.returncode, run.stderr.strip() or run.stdout.strip())
    bad = []
    for f in report.get("findings", []):
        if f["status"] == "CRITICAL" and f["rule"] not in bad:
            bad.append(f["rule"])
    if report.get("verified") and run.returncode in (0, 1):
        warnings = [f["rule"] for f in report["findings"] if f["status"] == "WARNING"]
        return "valid", ", ".join(["chain.trusted"] + sorted(set(warnings)))
    return "invalid", ", ".join(bad) or "not verified, exit %d" % run.returncode


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: pkits.py CERTCTL PKITS_DIR RESULTS_TSV")
    certctl, top, results = sys.argv[1:]
    pkits = Pkits(top)
    rows = []
    for section, title, names in SECTIONS:
        for number, name in enumerate(names.split(), 1):
            if not re.search(r"Test%d$" % number, name):
                raise SystemExit("pkits.py: %s.%d is %s: the table is out of order" %
                                 (section, number, name))
            ee = pkits.by_file.get(name + "EE.crt")
            if ee is None:
                raise SystemExit("pkits.py: no %sEE.crt in %s/certs" % (name, top))
            test = "%s.%d" % (section, number)
            expected = expected_of(section, number, name)
            path, certs, crls = pkits.gather(ee)
            got, rules = verify(certctl, top, ee, certs, crls)
            print("# %s %s: expected %s, got %s (%s)" % (test, name, expected, got, rules))
            chain = " < ".join(c.file[:-4] for c in path[1:])
            extra = [c.file[:-4] for c in certs if c not in path]
            detail = "path: %s; CRLs: %s%s" % (
                chain, " ".join(l.file[:-4] for l in crls) or "none",
                "; CRL signers: " + " ".join(extra) if extra else "")
            rows.append((section, title, test, name, expected, got, rules, detail, "-"))
        if section == "4.8":
            # The parts of 4.8 with other settings: certctl verify's
            # --initial-policy and --explicit-policy.
            for test, setting, outcome in POLICIES_SETTINGS:
                number = int(test.split(".")[2])
                name = SECTIONS[7][2].split()[number - 1]
                ee = pkits.by_file[name + "EE.crt"]
                path, certs, crls = pkits.gather(ee)
                got, rules = verify(certctl, top, ee, certs, crls, settings_argv(setting))
                print("# %s %s (%s): expected %s, got %s (%s)" % (test, name, setting, outcome,
                                                                  got, rules))
                rows.append((section, title, test, name, outcome, got, rules,
                             "settings: " + setting, "-"))
    with open(results, "w") as out:
        for row in rows:
            out.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
