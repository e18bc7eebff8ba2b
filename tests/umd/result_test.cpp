// result_from_errno(): the UMD's one errno -> Result table, row by row.
#include <cerrno>
#include <set>
#include <string>

#include "umd_test_util.h"

namespace umd_test {
namespace {

struct Row {
  int err;
  Result expected;
};

class ResultFromErrnoTest : public ::testing::TestWithParam<Row> {};

TEST_P(ResultFromErrnoTest, MapsNegativeErrnoToTheUmdResult) {
  EXPECT_EQ(result_from_errno(-GetParam().err), GetParam().expected) << "errno " << GetParam().err;
}

TEST_P(ResultFromErrnoTest, AcceptsAPositiveErrnoToo) {
  EXPECT_EQ(result_from_errno(GetParam().err), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ResultFromErrnoTest,
    ::testing::Values(Row{0, Result::kSuccess}, Row{EINVAL, Result::kInvalidArgument},
                      Row{EFAULT, Result::kInvalidArgument}, Row{E2BIG, Result::kInvalidArgument},
                      Row{ERANGE, Result::kInvalidArgument},
                      Row{EOVERFLOW, Result::kInvalidArgument}, Row{ENOENT, Result::kNotFound},
                      Row{ENXIO, Result::kNotFound}, Row{EPERM, Result::kPermissionDenied},
                      Row{EACCES, Result::kPermissionDenied}, Row{ENOMEM, Result::kOutOfMemory},
                      Row{ENOSPC, Result::kNoSpace}, Row{ENODEV, Result::kDeviceLost},
                      Row{EIO, Result::kDeviceLost}, Row{EBADF, Result::kDeviceLost},
                      Row{ECANCELED, Result::kDeviceLost}, Row{EINTR, Result::kInterrupted},
                      Row{EAGAIN, Result::kBusy}, Row{EBUSY, Result::kBusy},
                      Row{EDEADLK, Result::kBusy}, Row{ETIME, Result::kTimeout},
                      Row{ETIMEDOUT, Result::kTimeout}, Row{EOPNOTSUPP, Result::kNotSupported},
                      Row{ENOTTY, Result::kNotSupported}, Row{ENOSYS, Result::kNotSupported},
                      Row{ENOLINK, Result::kNotSupported}, Row{EXDEV, Result::kUnknown},
                      Row{EPIPE, Result::kUnknown}, Row{4095, Result::kUnknown}));

TEST(ResultToStringTest, EveryResultHasItsOwnName) {
  std::set<std::string> seen;
  for (int r = 0; r <= static_cast<int>(Result::kUnknown); ++r) {
    const std::string name = to_string(static_cast<Result>(r));
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(seen.insert(name).second) << name << " appears twice";
  }
  EXPECT_STREQ(to_string(Result::kSuccess), "success");
  EXPECT_STREQ(to_string(Result::kInterrupted), "interrupted");
  EXPECT_STREQ(to_string(Result::kNotSupported), "not supported");
}

TEST(ExpectedTest, HoldsAValueOrAnError) {
  Expected<int> v = 7;
  Expected<int> e = Result::kBusy;
  EXPECT_TRUE(v.has_value());
  EXPECT_EQ(*v, 7);
  EXPECT_EQ(v.result(), Result::kSuccess);
  EXPECT_FALSE(e.has_value());
  EXPECT_EQ(e.result(), Result::kBusy);
}

}  // namespace
}  // namespace umd_test
