// sha256_hex is exliar's own (state/hash.cpp): the journal's hashes must equal what
// sha256sum says, since the cleanup script checks backups with it.
#include "state/hash.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

namespace exliar {
namespace {

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

std::string sha256sum(const std::string& data) {
  char path[] = "/tmp/exliar-hash-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
  std::string cmd = std::string("sha256sum ") + path;
  FILE* p = popen(cmd.c_str(), "r");
  char out[65] = {};
  EXPECT_EQ(fread(out, 1, 64, p), 64u);
  pclose(p);
  unlink(path);
  return out;
}

// Every padding case (a tail of 0..63 bytes, one or two final blocks) and multi-block input.
TEST(Sha256, AgreesWithSha256sumAtEveryTailLength) {
  std::mt19937 rng(23);
  for (size_t n : {0, 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4099}) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(sha256_hex(s), sha256sum(s)) << "length " << n;
  }
}

}  // namespace
}  // namespace exliar
