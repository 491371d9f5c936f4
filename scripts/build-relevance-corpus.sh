#!/usr/bin/env bash
# Regenerates Selah's retrieval relevance corpus, tests/relevance/corpus/, its list of sources and
# licences, tests/relevance/SOURCES.md, and the copyright notices of those sources,
# tests/relevance/NOTICES.md, from the documentation installed on a Debian machine:
# man pages rendered to plain UTF-8 text, plus a fixed set of READMEs/FAQs from /usr/share/doc.
#
# Run by hand, once, by a developer (CI uses the committed files and never runs this). It is
# deterministic for a given set of installed packages: the list of pages below is fixed, pages are
# rendered at 80 columns without hyphenation or justification, and text longer than MAX_BYTES is
# cut at the last section boundary (else sub-section, else paragraph) below MAX_BYTES.
# It fails if a listed page or file is missing, so a machine lacking a package is noticed.
#
# Needs: man-db, groff-base, python3, dpkg; and the packages that ship the pages
# (see tests/relevance/SOURCES.md for the package of each file).
#
# Usage: scripts/build-relevance-corpus.sh [OUTPUT_DIR]   (default: tests/relevance)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/tests/relevance}"
CORPUS="$OUT/corpus"
MAX_BYTES=20000   # each file stays below this (the relevance set allows 1-40 KB; total ~3 MB)
MIN_BYTES=1024

export LC_ALL=C.UTF-8 LANG=C.UTF-8 MANWIDTH=80 GROFF_NO_SGR=1
unset MANPAGER PAGER MAN_KEEP_FORMATTING MANOPT MANPATH MANSECT 2>/dev/null || true

log() { echo "build-relevance-corpus: $*" >&2; }

# Man pages: "SECTION PAGE". The output file is man<SECTION>-<PAGE>.txt.
MAN_PAGES='
1 base64
1 bash
1 bzip2
1 chattr
1 chmod
1 chown
1 column
1 cp
1 curl
1 cut
1 date
1 dd
1 df
1 diff
1 dpkg
1 dpkg-deb
1 du
1 env
1 file
1 find
1 flock
1 free
1 gawk
1 git-bisect
1 git-cherry-pick
1 git-commit
1 git-log
1 git-stash
1 grep
1 gzip
1 head
1 hexdump
1 iconv
1 install
1 ionice
1 journalctl
1 kill
1 less
1 ln
1 logger
1 ls
1 make
1 mktemp
1 mv
1 nice
1 nohup
1 openssl-req
1 passwd
1 paste
1 patch
1 pkill
1 ps
1 rm
1 rsync
1 scp
1 script
1 sed
1 seq
1 sha256sum
1 sort
1 split
1 sqlite3
1 ssh
1 ssh-add
1 ssh-agent
1 ssh-copy-id
1 ssh-keygen
1 stat
1 su
1 systemctl
1 tail
1 tar
1 tee
1 timeout
1 top
1 touch
1 tr
1 truncate
1 uniq
1 update-alternatives
1 watch
1 wc
1 wget
1 xargs
1 xz
1 zstd
2 accept
2 chroot
2 epoll_wait
2 eventfd
2 fork
2 fsync
2 getrandom
2 mmap
2 open
2 pipe
2 poll
2 rename
2 sendfile
2 socket
2 splice
2 stat
2 umask
2 wait
3 backtrace
3 crypt
3 dlopen
3 errno
3 exec
3 fnmatch
3 fopen
3 getaddrinfo
3 getifaddrs
3 getline
3 getopt
3 iconv
3 malloc
3 mkstemp
3 mktime
3 popen
3 printf
3 pthread_create
3 qsort
3 readdir
3 regcomp
3 setjmp
3 setlocale
3 strftime
3 strtok
3 strtol
3 syslog
3 system
3 uuid
3 zlib
5 access.conf
5 adduser.conf
5 apt.conf
5 deb-changelog
5 deb-control
5 filesystems
5 fstab
5 gitignore
5 gitmodules
5 host.conf
5 hosts
5 journald.conf
5 limits.conf
5 logind.conf
5 logrotate.conf
5 machine-id
5 namespace.conf
5 nsswitch.conf
5 os-release
5 pam.conf
5 pam_env.conf
5 passwd
5 proc
5 protocols
5 resolv.conf
5 services
5 shadow
5 sources.list
5 ssh_config
5 sysctl.conf
5 systemd.exec
5 systemd.service
5 systemd.timer
5 systemd.unit
5 timesyncd.conf
5 tmpfiles.d
5 utmp
7 ascii
7 boot
7 capabilities
7 cgroups
7 credentials
7 environ
7 epoll
7 fifo
7 glob
7 hier
7 inotify
7 ipv6
7 man
7 namespaces
7 operator
7 path_resolution
7 pipe
7 random
7 regex
7 shm_overview
7 signal
7 signal-safety
7 socket
7 suffixes
7 systemd.time
7 time
7 udp
7 unix
7 uri
7 utf-8
8 adduser
8 apt-cache
8 apt-get
8 apt-mark
8 apt-secure
8 blkid
8 chpasswd
8 deluser
8 dumpe2fs
8 e2fsck
8 fsck
8 fstrim
8 ip
8 ip-address
8 ip-netns
8 ldconfig
8 losetup
8 mkfs
8 mount
8 netstat
8 pam_faillock
8 pam_limits
8 pam_namespace
8 pam_unix
8 resize2fs
8 setcap
8 ss
8 start-stop-daemon
8 swapon
8 sysctl
8 tune2fs
8 update-ca-certificates
8 update-rc.d
8 useradd
8 usermod
8 wipefs
'

# Other documents: "PATH|LICENCE", PATH relative to /usr/share/doc, licence as reviewed in the
# package's copyright file (or stated in the document itself). Output file:
# doc-<package dir>-<name without .gz>, with .txt appended unless it ends in .md or .txt.
DOCS='
apt/README.md.gz|GPL-2+
base-passwd/users-and-groups.txt.gz|GPL-2 (stated in the document)
ca-certificates/README.Debian|GPL-2+ (debian/*)
coreutils/README.gz|GPL-3+
git/README.md|GPL-2
gzip/README.gz|GPL-3+
libcrypt-dev/README.md.gz|LGPL-2.1+
libffi8/README.md.gz|Expat (MIT)
libfuse3-3/README.md|GPL-2
liblzma-dev/xz-file-format.txt.gz|public domain
man-db/FAQ|GPL-2+
man-db/README.md.gz|GPL-2+
mariadb-server/README.Debian.gz|GPL-2+ (debian/*)
mosquitto/README.md|EPL-2.0 or EDL-1.0
ncurses-base/FAQ|MIT/X11
openssh-client/README.Debian.gz|BSD-2-clause (debian/*)
openssh-client/README.dns|OpenSSH (BSD-style)
openssh-client/README.tun.gz|OpenSSH (BSD-style)
pkgconf-bin/README.md.gz|ISC
postgresql-common/README.md.gz|GPL-2+
postgresql-common/README.systemd|GPL-2+
procps/FAQ.gz|LGPL-2.1+
procps/bugs.md|LGPL-2.1+
redis-server/README.md.gz|BSD-3-clause
socat/FAQ|GPL-2
socat/README.gz|GPL-2
systemd/ENVIRONMENT.md.gz|LGPL-2.1-or-later (SPDX tag in the document)
systemd/UIDS-GIDS.md.gz|LGPL-2.1-or-later (SPDX tag in the document)
util-linux/modems-with-agetty.txt|GPL-2+
util-linux/parse-date.txt.gz|GPL-2+
xz-utils/faq.txt.gz|public domain
zlib1g-dev/FAQ.gz|Zlib
zlib1g-dev/algorithm.txt.gz|Zlib
zstd/README.md.gz|BSD-3-clause or GPL-2
'

# Licence of a package's man pages, as reviewed in /usr/share/doc/<package>/copyright (the stanza
# covering the man pages, usually "Files: *"). Used when the page source carries no
# SPDX-License-Identifier line of its own.
package_licence() {
  case "$1" in
    adduser|apt|ca-certificates|dpkg|dpkg-dev|man-db|net-tools|postgresql-common) echo "GPL-2+" ;;
    bash|coreutils|diffutils|grep|make|patch|rsync|sed|tar) echo "GPL-3+" ;;
    bsdextrautils|bsdutils|mount|util-linux) echo "GPL-2+ (util-linux; some files BSD or public domain)" ;;
    bzip2) echo "BSD-variant (bzip2 licence)" ;;
    curl) echo "curl (MIT-style)" ;;
    e2fsprogs|git-man|iproute2|logrotate|socat) echo "GPL-2" ;;
    file) echo "BSD-2-Clause-alike" ;;
    findutils) echo "GPL-3+ (stated in the page); package docs GFDL-1.3+ without invariant sections" ;;
    gawk) echo "permissive (verbatim copying permission notice in the page)" ;;
    gzip) echo "FSF-manpages (verbatim copying permission notice in the page)" ;;
    init-system-helpers) echo "GPL-2+ or BSD-3-clause (init-system-helpers copyright)" ;;
    less) echo "GPL-3+ or Less" ;;
    libcap2-bin) echo "BSD-3-clause or GPL-2" ;;
    libcrypt-dev) echo "public domain (stated in the page source)" ;;
    libpam-modules|libpam-runtime) echo "BSD-3-clause or GPL" ;;
    manpages|manpages-dev) echo "Linux man-pages licences (see package copyright)" ;;
    openssh-client) echo "OpenSSH (BSD-style)" ;;
    openssl) echo "Apache-2.0" ;;
    passwd|login) echo "BSD-3-clause (shadow)" ;;
    procps) echo "GPL-2+ / LGPL-2.1+ (procps)" ;;
    sqlite3) echo "public domain" ;;
    systemd|systemd-timesyncd) echo "LGPL-2.1+" ;;
    uuid-dev) echo "BSD-3-clause (libuuid, util-linux)" ;;
    wget) echo "GFDL-1.3+ with no invariant sections (stated in the page)" ;;
    xz-utils) echo "public domain" ;;
    zlib1g-dev) echo "Zlib" ;;
    zstd) echo "BSD-3-clause or GPL-2" ;;
    *) return 1 ;;
  esac
}

# Cleans text on stdin (removes overstrikes, ANSI escapes and other control characters, expands
# tabs, trims trailing spaces and surplus blank lines) and cuts it below MAX_BYTES at a boundary.
# Argument: "man", "md" or "txt" (how section boundaries look). Prints "<original bytes>" on fd 3.
clean_and_cut() {
  python3 -c '
import re, sys
kind, limit = sys.argv[1], int(sys.argv[2])
raw = sys.stdin.buffer.read().decode("utf-8", errors="replace")
raw = re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]", "", raw)       # ANSI/SGR escapes
raw = re.sub(r"\x1b[@-Z\\-_]", "", raw)
while True:                                                # backspace overstrikes: "x\bx", "_\bx"
    new = re.sub(r"[^\n\x08]\x08", "", raw)
    if new == raw:
        break
    raw = new
raw = raw.replace("\r\n", "\n").replace("\r", "\n")
lines = [l.expandtabs(8).rstrip() for l in raw.split("\n")]
lines = [re.sub(r"[\x00-\x1f\x7f]", "", l) for l in lines]
out, blank = [], 0
for l in lines:                                            # at most one blank line in a row
    if l == "":
        blank += 1
        if blank > 1:
            continue
    else:
        blank = 0
    out.append(l)
while out and out[0] == "":
    out.pop(0)
while out and out[-1] == "":
    out.pop()
text = "\n".join(out) + "\n"
orig = len(text.encode("utf-8"))
if orig >= limit:
    # Candidate cut points: starts of lines that follow a blank line, by strength.
    offs, pos = [], 0
    for i, l in enumerate(out):
        offs.append(pos)
        pos += len(l.encode("utf-8")) + 1
    def level(i):
        l = out[i]
        if i == 0 or out[i - 1] != "" or l == "":
            return None
        if kind == "man":
            if not l[0].isspace():
                return 0                                   # section header (NAME, OPTIONS, ...)
            if re.match(r"^ {1,4}\S", l):
                return 1                                   # sub-section / item at outer indent
            return 2
        if kind == "md":
            if re.match(r"^#{1,2} ", l) or (i + 1 < len(out) and re.match(r"^(=+|-+)$", out[i + 1])):
                return 0
            if l.startswith("#"):
                return 1
            return 2
        if not l[0].isspace() and (i + 1 < len(out) and re.match(r"^(=+|-+)$", out[i + 1])):
            return 0
        return 1 if not l[0].isspace() else 2
    cut = None
    for want in (0, 1, 2):
        best = None
        for i in range(1, len(out)):
            lv = level(i)
            if lv is not None and lv <= want and offs[i] - 1 < limit:
                best = i
        if best is not None and offs[best] >= limit // 2:
            cut = best
            break
    if cut is None:
        sys.exit("no boundary to cut at below %d bytes" % limit)
    kept = out[:cut]
    while kept and kept[-1] == "":
        kept.pop()
    text = "\n".join(kept) + "\n"
sys.stdout.write(text)
import os
os.write(3, str(orig).encode())
' "$1" "$MAX_BYTES"
}

# Appends to "$tmp.notices" the copyright and permission notices of one corpus file, as a record
# "<file>\t<package>\t<notice text with \n escaped>": for a man page, the comment header of its
# source plus any COPYRIGHT/LICENSE section of the full rendering (the corpus copy may be cut);
# for another document, its paragraphs that mention copyright or a licence.
# Arguments: corpus file name, package, kind (man|doc), source path, full rendered text file.
collect_notice() {
  python3 -c '
import gzip, re, sys
name, pkg, kind, src, full = sys.argv[1:6]
text = open(full, encoding="utf-8", errors="replace").read()
text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", "", text.replace("\t", "        "))
parts = []
if kind == "man":
    raw = open(src, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    hdr = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if re.match(r"^[.\x27]\\\"", line):
            hdr.append(re.sub(r"^[.\x27]\\\" ?", "", line).rstrip())
        elif line.strip() == "":
            continue
        else:
            break
    h = "\n".join(hdr).strip()
    if re.search(r"copyright|licen[cs]e|permission|public domain|SPDX", h, re.I):
        parts.append(h)
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if re.match(r"^(COPYRIGHT|LICEN[CS]E|COPYING)", lines[i]):
            j = i + 1
            while j < len(lines) and (lines[j] == "" or lines[j][0].isspace()):
                j += 1
            parts.append("\n".join(l.rstrip() for l in lines[i:j]).strip())
            i = j
        else:
            i += 1
else:
    paras = re.split(r"\n[ \t]*\n", text)
    hits = [p.strip("\n") for p in paras if re.search(r"copyright|licen[cs]e|SPDX", p, re.I)]
    parts.extend(hits[:4])
notice = "\n\n".join(p for p in parts if p) or "(no notice in the document itself)"
sys.stdout.write(name + "\t" + pkg + "\t" + notice.replace("\\", "\\\\").replace("\n", "\\n") + "\n")
' "$@" >>"$tmp.notices"
}

owner_package() {
  local f="$1" p
  p=$(dpkg -S "$f" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$p" ] || { log "no package owns $f"; return 1; }
  echo "$p"
}

package_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }

mkdir -p "$CORPUS"
find "$CORPUS" -maxdepth 1 -type f \( -name '*.txt' -o -name '*.md' \) -delete
rows=()
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.size" "$tmp.full" "$tmp.notices"' EXIT
: >"$tmp.notices"

add_row() {  # file source package licence original_bytes
  local f="$1" size note
  size=$(wc -c <"$CORPUS/$f")
  if [ "$size" -lt "$MIN_BYTES" ] || [ "$size" -ge 40960 ]; then
    log "$f is $size bytes, outside ${MIN_BYTES}..40959"; exit 1
  fi
  note=""
  [ "$5" -gt "$size" ] && note="cut at a boundary: $size of $5 bytes"
  rows+=("| \`$f\` | $2 | $3 ($(package_version "$3")) | $4 | $note |")
}

while read -r sec page; do
  [ -n "$sec" ] || continue
  src=$(man -w -s "$sec" "$page" 2>/dev/null | head -1) || true
  [ -n "$src" ] || { log "man page $page($sec) not found"; exit 1; }
  real=$(readlink -f "$src")
  pkg=$(owner_package "$real")
  spdx=$(zcat -f "$real" | awk 'NR <= 60 && !f && /SPDX-License-Identifier:/ {
    sub(/.*SPDX-License-Identifier: */, ""); sub(/ .*/, ""); print; f = 1 }')
  mptag=$(zcat -f "$real" | awk 'NR <= 60 && !f && /%%%LICENSE_START\(/ {
    sub(/.*%%%LICENSE_START\(/, ""); sub(/\).*/, ""); print; f = 1 }')
  if [ -n "$spdx" ]; then
    lic="$spdx (SPDX tag in the page source)"
  elif [ -n "$mptag" ]; then
    lic="man-pages $mptag (licence tag in the page source)"
  else
    lic=$(package_licence "$pkg") || { log "no reviewed licence for package $pkg ($real)"; exit 1; }
  fi
  out="man$sec-$page.txt"
  man --nh --nj -P cat -l "$real" 2>/dev/null | col -bx >"$tmp.full"
  clean_and_cut man <"$tmp.full" >"$CORPUS/$out" 3>"$tmp.size"
  collect_notice "$out" "$pkg" man "$real" "$tmp.full"
  add_row "$out" "\`$real\` (man $sec $page)" "$pkg" "$lic" "$(cat "$tmp.size")"
done <<<"$MAN_PAGES"

while IFS='|' read -r rel lic; do
  [ -n "$rel" ] || continue
  path="/usr/share/doc/$rel"
  [ -f "$path" ] || { log "$path not found"; exit 1; }
  pkg=$(owner_package "$path")
  dir=${rel%%/*}
  name=${rel#*/}
  name=${name%.gz}
  case "$name" in
    *.md) kind=md; out="doc-$dir-$name" ;;
    *.txt) kind=txt; out="doc-$dir-$name" ;;
    *) kind=txt; out="doc-$dir-$name.txt" ;;
  esac
  zcat -f "$path" >"$tmp.full"
  clean_and_cut "$kind" <"$tmp.full" >"$CORPUS/$out" 3>"$tmp.size"
  collect_notice "$out" "$pkg" doc "$path" "$tmp.full"
  add_row "$out" "\`$path\`" "$pkg" "$lic" "$(cat "$tmp.size")"
done <<<"$DOCS"

count=$(find "$CORPUS" -maxdepth 1 -type f | wc -l)
total=$(cat "$CORPUS"/* | wc -c)
{
  echo "# Sources of the relevance corpus"
  echo
  echo "Generated by \`scripts/build-relevance-corpus.sh\`; do not edit by hand."
  echo "$count files, $total bytes. Rendered on Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
  echo "with man-db $(package_version man-db) and groff $(package_version groff-base): man pages at"
  echo "\`MANWIDTH=80 man --nh --nj -P cat -l PAGE | col -bx\` in the C.UTF-8 locale, other documents"
  echo "with \`zcat -f\`; then control characters removed, tabs expanded, and text of $MAX_BYTES bytes"
  echo "or more cut at the last section boundary (else sub-section, else paragraph) below that."
  echo
  echo "Licences: the SPDX tag of the page source where it has one, else the Linux man-pages"
  echo "project's licence tag in the page source (\`%%%LICENSE_START(...)\`), else the licence that"
  echo "the package's \`/usr/share/doc/<package>/copyright\` gives for those files (reviewed by"
  echo "hand; for the READMEs it is listed in the script). All are free licences: GPL, LGPL, BSD,"
  echo "MIT/ISC/Zlib-style, Apache-2.0, EPL/EDL, public domain, GFDL without invariant sections, and"
  echo "the man-pages project's own ones (Linux-man-pages-copyleft, VERBATIM_ONE_PARA: copies,"
  echo "modified or not, may be distributed provided the header is kept; PERMISSIVE_MISC, MISC:"
  echo "BSD/MIT-style notices). The copyright and permission notices themselves are collected in"
  echo "\`NOTICES.md\`."
  echo
  echo "| File | Source | Debian package (version) | Licence | Notes |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
} >"$OUT/SOURCES.md"

# NOTICES.md: the notices, each distinct text once, with the files it belongs to.
python3 -c '
import sys
records, order = {}, []
for line in open(sys.argv[1], encoding="utf-8"):
    name, pkg, notice = line.rstrip("\n").split("\t", 2)
    notice = notice.replace("\\n", "\n").replace("\\\\", "\\")
    if notice not in records:
        records[notice] = []
        order.append(notice)
    records[notice].append((name, pkg))
out = ["# Copyright and licence notices of the relevance corpus", "",
       "Generated by `scripts/build-relevance-corpus.sh`; do not edit by hand. The corpus files are",
       "renderings (and, where `SOURCES.md` says so, cut copies) of the sources named in `SOURCES.md`.",
       "The notices below come from those sources: the comment header of each man page source, the",
       "COPYRIGHT/LICENSE section of its full rendering, and the paragraphs of the other documents",
       "that mention copyright or a licence. The complete copyright statement of each package is in",
       "`/usr/share/doc/<package>/copyright` on Debian, and the common licence texts are in",
       "`/usr/share/common-licenses/`.", ""]
for notice in order:
    files = records[notice]
    pkgs = sorted({p for _, p in files})
    out.append("## " + ", ".join("`%s`" % n for n, _ in files))
    out.append("")
    out.append("Package%s: %s (full statement: %s)." % ("s" if len(pkgs) > 1 else "", ", ".join(pkgs),
               ", ".join("`/usr/share/doc/%s/copyright`" % p for p in pkgs)))
    out.append("")
    out.append("```")
    out.append(notice.replace("```", "` ` `"))
    out.append("```")
    out.append("")
import os, re
out.append("# Package copyright summaries")
out.append("")
out.append("For each package above: the `Files: *` stanza of its machine-readable copyright file, or")
out.append("the opening of a free-form one (at most 40 lines; the licence texts themselves are left out).")
out.append("")
for pkg in sorted({p for files in records.values() for _, p in files}):
    path = "/usr/share/doc/%s/copyright" % pkg
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    except OSError:
        sys.exit("missing " + path)
    if lines and lines[0].startswith("Format:"):
        start = next((i for i, l in enumerate(lines) if l.strip() == "Files: *"), None)
        if start is None:
            start = next((i for i, l in enumerate(lines) if l.startswith("Files:")), 0)
        end = start + 1
        while end < len(lines) and lines[end].strip() != "":
            end += 1
        body = lines[start:end]
        keep, in_lic = [], False
        for l in body:                       # keep the licence name, not its text
            if l.startswith("License:"):
                in_lic = True
                keep.append(l)
            elif in_lic and l[:1] in (" ", "\t"):
                continue
            else:
                in_lic = False
                keep.append(l)
        body = keep
    else:
        body = lines
    body = [l.rstrip() for l in body[:40]]
    while body and body[-1] == "":
        body.pop()
    out.append("## " + pkg)
    out.append("")
    out.append("From `%s`:" % path)
    out.append("")
    out.append("```")
    out.extend(l.replace("```", "` ` `") for l in body)
    out.append("```")
    out.append("")
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out))
' "$tmp.notices" "$OUT/NOTICES.md"

log "$count files, $total bytes in $CORPUS"
