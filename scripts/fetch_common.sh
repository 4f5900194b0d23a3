# Shared by the fetch scripts (sourced, not run): set `script` to the caller's name first.

die() {
  echo "$script: error: $*" >&2
  exit 1
}

# The SHA-256 of a file, with whichever tool the machine has.
sum_of() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "need sha256sum or shasum to check the downloaded files"
  fi
}
