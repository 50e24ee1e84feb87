;; The two loops of the v2 produce scan (src/http/v2-produce-scan.ts) that JavaScript is slow at,
;; 16 bytes per step with WebAssembly SIMD. `npm run gen:wasm` assembles this file into
;; scan-kernels.wasm.ts; test/wasm-sources.test.ts checks the two agree.
;;
;; The caller copies a request body into this memory from offset 0 and keeps 16 readable bytes
;; behind it: both loops load 16 bytes at a time and may read past the end of what they look at.
(module
  (memory (export "memory") 1)

  ;; Index of the first quote, backslash or control character in [p, end), or `end`: where a
  ;; JSON string's text ends, or is spoiled for a scan that keeps only unescaped strings.
  (func (export "stringEnd") (param $p i32) (param $end i32) (result i32)
    (local $v v128)
    (local $mask i32)
    (loop $next
      (if (i32.ge_u (local.get $p) (local.get $end))
        (then (return (local.get $end))))
      (local.set $v (v128.load (local.get $p)))
      (local.set $mask
        (i8x16.bitmask
          (v128.or
            (v128.or
              (i8x16.eq (local.get $v) (v128.const i8x16 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34))
              (i8x16.eq (local.get $v) (v128.const i8x16 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92)))
            (i8x16.lt_u (local.get $v) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32)))))
      (if (local.get $mask)
        (then
          (local.set $p (i32.add (local.get $p) (i32.ctz (local.get $mask))))
          (return (select (local.get $p) (local.get $end) (i32.lt_u (local.get $p) (local.get $end))))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $next))
    (unreachable))

  ;; Decodes `len` characters of standard base64 (no padding: the caller strips it, and refuses
  ;; len % 4 == 1) at `src` into floor(len * 3 / 4) bytes at `dst`. Returns 1, or 0 when a
  ;; character is outside the alphabet. Writes up to 16 bytes past the output's end.
  ;; The classification and translation tables are Wojciech Muła's (0x80 and up are refused too).
  (func (export "decodeBase64") (param $src i32) (param $len i32) (param $dst i32) (result i32)
    (local $end i32)
    (local $rem i32)
    (local $v v128)
    (local $hi v128)
    (local $bad v128)
    (local $lut_lo v128)
    (local $lut_hi v128)
    (local $roll v128)
    (local $nib v128)
    (local $slash v128)
    (local $ff v128)
    (local $ffff v128)
    (local.set $lut_lo (v128.const i8x16 0x15 0x11 0x11 0x11 0x11 0x11 0x11 0x11 0x11 0x11 0x13 0x1a 0x1b 0x1b 0x1b 0x1a))
    (local.set $lut_hi (v128.const i8x16 0x10 0x10 0x01 0x02 0x04 0x08 0x04 0x08 0x10 0x10 0x10 0x10 0x10 0x10 0x10 0x10))
    (local.set $roll (v128.const i8x16 0 16 19 4 -65 -65 -71 -71 0 0 0 0 0 0 0 0))
    (local.set $nib (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $slash (v128.const i8x16 47 47 47 47 47 47 47 47 47 47 47 47 47 47 47 47))
    (local.set $ff (v128.const i16x8 0xff 0xff 0xff 0xff 0xff 0xff 0xff 0xff))
    (local.set $ffff (v128.const i32x4 0xffff 0xffff 0xffff 0xffff))
    (local.set $end (i32.add (local.get $src) (local.get $len)))
    (block $done
      (loop $next
        (local.set $rem (i32.sub (local.get $end) (local.get $src)))
        (br_if $done (i32.le_s (local.get $rem) (i32.const 0)))
        (local.set $v (v128.load (local.get $src)))
        ;; A last block shorter than 16: the lanes past the text read as 'A' (six zero bits).
        (if (i32.lt_u (local.get $rem) (i32.const 16))
          (then
            (local.set $v
              (v128.bitselect
                (local.get $v)
                (v128.const i8x16 65 65 65 65 65 65 65 65 65 65 65 65 65 65 65 65)
                (i8x16.lt_u
                  (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
                  (i8x16.splat (local.get $rem)))))))
        (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
        ;; A character is in the alphabet when its low- and high-nibble classes share no bit.
        (local.set $bad
          (v128.or
            (local.get $bad)
            (v128.and
              (i8x16.swizzle
                (local.get $lut_lo)
                (v128.and (local.get $v) (local.get $nib)))
              (i8x16.swizzle
                (local.get $lut_hi)
                (local.get $hi)))))
        ;; Character to its six bits: add the offset of its range ('/' shares its high nibble with '+').
        (local.set $v
          (i8x16.add
            (local.get $v)
            (i8x16.swizzle
              (local.get $roll)
              (i8x16.add
                (local.get $hi)
                (i8x16.eq (local.get $v) (local.get $slash))))))
        ;; Pairs of six bits into twelve (i16 lanes), pairs of twelve into twenty-four (i32 lanes).
        (local.set $v
          (v128.or
            (i16x8.shl (v128.and (local.get $v) (local.get $ff)) (i32.const 6))
            (i16x8.shr_u (local.get $v) (i32.const 8))))
        (local.set $v
          (v128.or
            (i32x4.shl (v128.and (local.get $v) (local.get $ffff)) (i32.const 12))
            (i32x4.shr_u (local.get $v) (i32.const 16))))
        ;; Each i32 lane's three low bytes, most significant first: twelve bytes of output.
        (v128.store
          (local.get $dst)
          (i8x16.shuffle 2 1 0 6 5 4 10 9 8 14 13 12 15 15 15 15 (local.get $v) (local.get $v)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 12)))
        (br $next)))
    (i32.eqz (v128.any_true (local.get $bad))))
)
