;; WebAssembly SIMD kernel for the two passes of the Pillow-exact bicubic resize
;; (pillow-resize.ts). scripts/build-resize-kernel.ts assembles this file with wabt into
;; pillow-resize-wasm-bytes.ts (committed; a test rebuilds it and compares byte for byte).
;; Driver and memory layout: pillow-resize-wasm.ts.
;;
;; Exactness. Pillow's accumulator is acc = 2^21 + Σ pixel·w with 22-bit fixed-point weights w,
;; result clip8(acc >> 22). Weights do not fit the 16-bit lanes of i32x4.dot_i16x8_s, so each one
;; is split as w = hi·2^15 + lo with hi = w >> 15 (in [−128, 128]) and lo = w & 0x7fff (in
;; [0, 32767]); the kernel sums pixel·hi and pixel·lo separately and forms (Σhi << 15) + Σlo.
;; Every step is exact modulo 2^32, and the scalar path's `acc >> 22` also reduces its (exact,
;; double) sum modulo 2^32, so both give the same bits even where a sum would overflow int32.
;; Clipping: i16x8.narrow_i32x4_s then i8x16.narrow_i16x8_u saturate to [−32768, 32767] and then
;; [0, 255], which is clip8.
;;
;; Taps are processed in pairs (odd counts padded with a zero weight); the loads that padding and
;; 16-byte chunks cause past the end of a row land in slack the driver reserves, and are
;; multiplied by zero or written to bytes that are overwritten later.
(module
  (memory (export "memory") 1)

  ;; Horizontal pass over 'rows' rows of interleaved RGB, two rows at a time so that they share
  ;; the weight loads (an odd last row is paired with itself). Per output pixel x: offsets[x] =
  ;; byte offset of its first tap in the row, pairs[x] = number of tap pairs, and for each pair 32
  ;; bytes of weights: i16x8 [hi0 hi1 hi0 hi1 hi0 hi1 0 0] then the same with lo. The pixels of a
  ;; pair are widened and shuffled to i16x8 [R0 R1 G0 G1 B0 B1 R2 G2], so one dot product gives
  ;; [R G B 0] partial sums (the last two lanes meet zero weights).
  (func (export "horizontal")
    (param $src i32) (param $srcStride i32) (param $rows i32) (param $dst i32)
    (param $outWidth i32) (param $offsets i32) (param $pairs i32) (param $weights i32)
    (local $x i32) (local $s i32) (local $w i32) (local $n i32) (local $next i32) (local $dst2 i32) (local $outStride i32) (local $rgb i32)
    (local $zero v128) (local $p0 v128) (local $p1 v128) (local $wh v128) (local $wl v128)
    (local $hi0 v128) (local $lo0 v128) (local $hi1 v128) (local $lo1 v128)
    local.get $outWidth
    i32.const 3
    i32.mul
    local.set $outStride
    loop $row
      ;; rows go in twos sharing the weight loads; an odd last row is paired with itself
      local.get $srcStride
      i32.const 0
      local.get $rows
      i32.const 1
      i32.ne
      select
      local.set $next
      local.get $dst
      local.get $outStride
      i32.const 0
      local.get $rows
      i32.const 1
      i32.ne
      select
      i32.add
      local.set $dst2
      i32.const 0
      local.set $x
      local.get $weights
      local.set $w
      loop $pixel
        local.get $src
        local.get $offsets
        local.get $x
        i32.const 2
        i32.shl
        i32.add
        i32.load
        i32.add
        local.set $s
        local.get $pairs
        local.get $x
        i32.const 2
        i32.shl
        i32.add
        i32.load
        local.set $n
        local.get $zero
        local.tee $hi0
        local.tee $lo0
        local.tee $hi1
        local.set $lo1
        loop $tap
          local.get $s
          v128.load8x8_u align=1
          local.tee $p0
          local.get $p0
          i8x16.shuffle 0 1 6 7 2 3 8 9 4 5 10 11 12 13 14 15
          local.set $p0
          local.get $s
          local.get $next
          i32.add
          v128.load8x8_u align=1
          local.tee $p1
          local.get $p1
          i8x16.shuffle 0 1 6 7 2 3 8 9 4 5 10 11 12 13 14 15
          local.set $p1
          local.get $w
          v128.load
          local.set $wh
          local.get $w
          v128.load offset=16
          local.set $wl
          local.get $p0
          local.get $wh
          i32x4.dot_i16x8_s
          local.get $hi0
          i32x4.add
          local.set $hi0
          local.get $p0
          local.get $wl
          i32x4.dot_i16x8_s
          local.get $lo0
          i32x4.add
          local.set $lo0
          local.get $p1
          local.get $wh
          i32x4.dot_i16x8_s
          local.get $hi1
          i32x4.add
          local.set $hi1
          local.get $p1
          local.get $wl
          i32x4.dot_i16x8_s
          local.get $lo1
          i32x4.add
          local.set $lo1
          local.get $s
          i32.const 6
          i32.add
          local.set $s
          local.get $w
          i32.const 32
          i32.add
          local.set $w
          local.get $n
          i32.const 1
          i32.sub
          local.tee $n
          br_if $tap
        end
        ;; clip8(((hi << 15) + lo + 2^21) >> 22) for R, G, B of both rows, stored as exactly 3 bytes
        ;; (a 4th byte would land on the other row's first pixel at the row end)
        local.get $dst2
        local.get $hi1
        i32.const 15
        i32x4.shl
        local.get $lo1
        i32x4.add
        v128.const i32x4 2097152 2097152 2097152 2097152
        i32x4.add
        i32.const 22
        i32x4.shr_s
        local.get $zero
        i16x8.narrow_i32x4_s
        local.get $zero
        i8x16.narrow_i16x8_u
        i32x4.extract_lane 0
        local.tee $rgb
        i32.store16 align=1
        local.get $dst2
        local.get $rgb
        i32.const 16
        i32.shr_u
        i32.store8 offset=2
        local.get $dst
        local.get $hi0
        i32.const 15
        i32x4.shl
        local.get $lo0
        i32x4.add
        v128.const i32x4 2097152 2097152 2097152 2097152
        i32x4.add
        i32.const 22
        i32x4.shr_s
        local.get $zero
        i16x8.narrow_i32x4_s
        local.get $zero
        i8x16.narrow_i16x8_u
        i32x4.extract_lane 0
        local.tee $rgb
        i32.store16 align=1
        local.get $dst
        local.get $rgb
        i32.const 16
        i32.shr_u
        i32.store8 offset=2
        local.get $dst
        i32.const 3
        i32.add
        local.set $dst
        local.get $dst2
        i32.const 3
        i32.add
        local.set $dst2
        local.get $x
        i32.const 1
        i32.add
        local.tee $x
        local.get $outWidth
        i32.lt_u
        br_if $pixel
      end
      local.get $dst2
      local.set $dst
      local.get $src
      local.get $srcStride
      i32.const 1
      i32.shl
      i32.add
      local.set $src
      local.get $rows
      i32.const 2
      i32.sub
      local.tee $rows
      i32.const 0
      i32.gt_s
      br_if $row
    end
  )

  ;; Vertical pass, 16 bytes (any channel) at a time, all taps of a chunk before the next chunk so
  ;; the accumulators stay in registers. Per output row y: rowOffsets[y] = byte offset of its first
  ;; source row, pairs[y] = number of row pairs, and per pair 32 bytes of weights: i16x8
  ;; [hiA hiB]×4 then [loA loB]×4. Two rows' bytes are interleaved to i16 pairs (a, b), so a dot
  ;; product gives a·wA + b·wB per lane. Writes 'chunks'·16 bytes per row (the excess is
  ;; overwritten by the next row).
  (func (export "vertical")
    (param $src i32) (param $stride i32) (param $chunks i32) (param $dst i32)
    (param $outHeight i32) (param $rowOffsets i32) (param $pairs i32) (param $weights i32)
    (local $base i32) (local $c i32) (local $s i32) (local $w i32) (local $n i32) (local $k i32)
    (local $a v128) (local $b v128) (local $low v128) (local $high v128) (local $p v128)
    (local $wh v128) (local $wl v128)
    (local $h0 v128) (local $h1 v128) (local $h2 v128) (local $h3 v128)
    (local $l0 v128) (local $l1 v128) (local $l2 v128) (local $l3 v128)
    (local $half v128)
    v128.const i32x4 2097152 2097152 2097152 2097152
    local.set $half
    loop $row
      local.get $src
      local.get $rowOffsets
      i32.load
      i32.add
      local.set $base
      local.get $pairs
      i32.load
      local.set $n
      i32.const 0
      local.set $c
      loop $chunk
        v128.const i32x4 0 0 0 0
        local.tee $h0
        local.tee $h1
        local.tee $h2
        local.tee $h3
        local.tee $l0
        local.tee $l1
        local.tee $l2
        local.set $l3
        local.get $base
        local.get $c
        i32.const 4
        i32.shl
        i32.add
        local.set $s
        local.get $weights
        local.set $w
        local.get $n
        local.set $k
        loop $tap
          local.get $s
          v128.load align=1
          local.set $a
          local.get $s
          local.get $stride
          i32.add
          v128.load align=1
          local.set $b
          local.get $w
          v128.load
          local.set $wh
          local.get $w
          v128.load offset=16
          local.set $wl
          local.get $a
          local.get $b
          i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
          local.set $low
          local.get $a
          local.get $b
          i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31
          local.set $high

          local.get $low
          i16x8.extend_low_i8x16_u
          local.tee $p
          local.get $wh
          i32x4.dot_i16x8_s
          local.get $h0
          i32x4.add
          local.set $h0
          local.get $p
          local.get $wl
          i32x4.dot_i16x8_s
          local.get $l0
          i32x4.add
          local.set $l0

          local.get $low
          i16x8.extend_high_i8x16_u
          local.tee $p
          local.get $wh
          i32x4.dot_i16x8_s
          local.get $h1
          i32x4.add
          local.set $h1
          local.get $p
          local.get $wl
          i32x4.dot_i16x8_s
          local.get $l1
          i32x4.add
          local.set $l1

          local.get $high
          i16x8.extend_low_i8x16_u
          local.tee $p
          local.get $wh
          i32x4.dot_i16x8_s
          local.get $h2
          i32x4.add
          local.set $h2
          local.get $p
          local.get $wl
          i32x4.dot_i16x8_s
          local.get $l2
          i32x4.add
          local.set $l2

          local.get $high
          i16x8.extend_high_i8x16_u
          local.tee $p
          local.get $wh
          i32x4.dot_i16x8_s
          local.get $h3
          i32x4.add
          local.set $h3
          local.get $p
          local.get $wl
          i32x4.dot_i16x8_s
          local.get $l3
          i32x4.add
          local.set $l3

          local.get $s
          local.get $stride
          i32.const 1
          i32.shl
          i32.add
          local.set $s
          local.get $w
          i32.const 32
          i32.add
          local.set $w
          local.get $k
          i32.const 1
          i32.sub
          local.tee $k
          br_if $tap
        end
        ;; clip8(((h << 15) + l + 2^21) >> 22), 16 bytes
        local.get $dst
        local.get $c
        i32.const 4
        i32.shl
        i32.add
        local.get $h0
        i32.const 15
        i32x4.shl
        local.get $l0
        i32x4.add
        local.get $half
        i32x4.add
        i32.const 22
        i32x4.shr_s
        local.get $h1
        i32.const 15
        i32x4.shl
        local.get $l1
        i32x4.add
        local.get $half
        i32x4.add
        i32.const 22
        i32x4.shr_s
        i16x8.narrow_i32x4_s
        local.get $h2
        i32.const 15
        i32x4.shl
        local.get $l2
        i32x4.add
        local.get $half
        i32x4.add
        i32.const 22
        i32x4.shr_s
        local.get $h3
        i32.const 15
        i32x4.shl
        local.get $l3
        i32x4.add
        local.get $half
        i32x4.add
        i32.const 22
        i32x4.shr_s
        i16x8.narrow_i32x4_s
        i8x16.narrow_i16x8_u
        v128.store align=1
        local.get $c
        i32.const 1
        i32.add
        local.tee $c
        local.get $chunks
        i32.lt_u
        br_if $chunk
      end
      local.get $weights
      local.get $n
      i32.const 5
      i32.shl
      i32.add
      local.set $weights
      local.get $dst
      local.get $stride
      i32.add
      local.set $dst
      local.get $rowOffsets
      i32.const 4
      i32.add
      local.set $rowOffsets
      local.get $pairs
      i32.const 4
      i32.add
      local.set $pairs
      local.get $outHeight
      i32.const 1
      i32.sub
      local.tee $outHeight
      br_if $row
    end
  )
)
