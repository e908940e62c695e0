# SPDX-License-Identifier: MIT
# Sourced by mk/deps.sh and mk/kvm-nested.sh, with B set to the build directory: APT_OPTS,
# apt with the private sources, lists and cache that mk/deps.sh derives from the machine's own
# configuration into $B/apt (so no mirror is named in the project). /etc/apt and /var/lib/apt
# stay untouched, and it works without root. As root, apt would hand downloads to its sandbox
# user _apt, which cannot write our directories (it chowns some and warns about others);
# downloading as root keeps every file owned by the caller. A non-root caller cannot switch
# users, so the option is moot.
APT_OPTS=(
	-c "$B/apt/apt.conf"
	-o Dir::Etc::SourceList="$B/apt/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$B/apt/lists"
	-o Dir::Cache="$B/apt/cache"
	-o APT::Sandbox::User=root
)
