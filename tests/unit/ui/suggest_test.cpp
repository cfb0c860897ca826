#include "ui/suggest.h"

#include <gtest/gtest.h>

using exliar::ui::edit_distance;
using exliar::ui::nearest;

TEST(Suggest, EditDistanceCountsTranspositionAsOne) {
  EXPECT_EQ(edit_distance("check", "check"), 0u);
  EXPECT_EQ(edit_distance("chekc", "check"), 1u);
  EXPECT_EQ(edit_distance("chek", "check"), 1u);
  EXPECT_EQ(edit_distance("", "plan"), 4u);
  EXPECT_EQ(edit_distance("apply", "reply"), 2u);
}

TEST(Suggest, NearestVerb) {
  std::vector<std::string> verbs{"detect", "check", "groups", "gpu", "plan", "apply", "status",
                                 "rollback", "bind", "unbind"};
  EXPECT_EQ(nearest("chek", verbs), "check");
  EXPECT_EQ(nearest("aplly", verbs), "apply");
  EXPECT_EQ(nearest("rolback", verbs), "rollback");
  EXPECT_EQ(nearest("stat", verbs), "status");  // an abbreviation
  EXPECT_EQ(nearest("xyzzy", verbs), std::nullopt);
  EXPECT_EQ(nearest("check", verbs), std::nullopt);  // exact is no suggestion
}

TEST(Suggest, NearestOption) {
  std::vector<std::string> opts{"--gpu", "--bind", "--acs-override", "--rom", "--json"};
  EXPECT_EQ(nearest("--gup", opts), "--gpu");
  EXPECT_EQ(nearest("--acs-overide", opts), "--acs-override");
  EXPECT_EQ(nearest("--frobnicate", opts), std::nullopt);
}
