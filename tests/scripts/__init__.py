# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
