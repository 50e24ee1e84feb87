;; The per-record loop of the record batch encoder (src/storage/record-batch.ts): Kafka's v2
;; record layout, one record after another, fields copied 16 bytes a step. `npm run gen:wasm`
;; assembles this file into record-encoder.wasm.ts (test/wasm-sources.test.ts checks the two
;; agree); test/storage/record-encoder.test.ts checks its output is the JavaScript encoder's.
;;
;; A record: length varint, attributes int8 (0), timestamp delta varlong, offset delta varint,
;; key length varint (-1: null) and key, value length varint and value, header count varint (0).
;; Varints are zig-zag, as Kafka writes them.
;;
;; Everything is written out in the one loop, with no calls: Node 20's V8 does not inline
;; WebAssembly calls, and a call per varint cost the loop about two thirds of its time (measured:
;; about 95 ns a record with helper functions, about 32 without, for 100-byte values). So the
;; varint writer and the field copy appear more than once below; they are the same lines each time.
(module
  (memory (export "memory") 1)

  ;; Writes `count` records at `dst`; returns the end of what it wrote. Record k is row rows[k]
  ;; of the columns (row k when `rows` is -1), its offset delta is k. The columns: field i of the
  ;; keys is keyBytes[keyStarts[i] .. + keyLengths[i]] (same for values); `timestamps` holds f64
  ;; milliseconds, each written as its difference from `baseTimestamp`. Arrays are i32 or f64,
  ;; little-endian, as JavaScript's typed arrays lay them out.
  ;;
  ;; Fields up to 256 bytes are copied 16 bytes a step (a memory.copy call costs more than the
  ;; copy itself at that size); the step may read and write up to 15 bytes past the field, which
  ;; the caller's layout allows and the next bytes written overwrite.
  ;;
  ;; The size of the varint of a zig-zag value z is ceil(bits(z) / 7), with bits(z) = 32 - clz(z | 1)
  ;; (64 - clz for a varlong); (x + 6) * 147 >> 10 equals (x + 6) / 7 for every x up to 70.
  (func (export "encodeRecords")
    (param $count i32) (param $rows i32)
    (param $keyBytes i32) (param $keyStarts i32) (param $keyLengths i32)
    (param $valueBytes i32) (param $valueStarts i32) (param $valueLengths i32)
    (param $timestamps i32) (param $baseTimestamp i64) (param $dst i32)
    (result i32)
    (local $k i32)
    (local $at i32)
    (local $p i32)
    (local $keyLength i32)
    (local $valueLength i32)
    (local $timestampZ i64)
    (local $z i32)
    (local $zl i64)
    (local $body i32)
    (local $from i32)
    (local $j i32)
    (local.set $p (local.get $dst))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        ;; $at: the row's index times 4, its place in the i32 columns.
        (local.set $at
          (i32.shl
            (if (result i32) (i32.lt_s (local.get $rows) (i32.const 0))
              (then (local.get $k))
              (else (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2))))))
            (i32.const 2)))
        (local.set $keyLength (i32.load (i32.add (local.get $keyLengths) (local.get $at))))
        (local.set $valueLength (i32.load (i32.add (local.get $valueLengths) (local.get $at))))
        ;; The zig-zag timestamp delta.
        (local.set $zl
          (i64.sub
            (i64.trunc_f64_s (f64.load (i32.add (local.get $timestamps) (i32.shl (local.get $at) (i32.const 1)))))
            (local.get $baseTimestamp)))
        (local.set $timestampZ
          (i64.xor (i64.shl (local.get $zl) (i64.const 1)) (i64.shr_s (local.get $zl) (i64.const 63))))
        ;; The record's length: attributes and header count (one byte each), the timestamp delta,
        ;; the offset delta (k >= 0, so its zig-zag is k << 1), and each field's length and bytes
        ;; (a null field: one byte).
        (local.set $body
          (i32.add
            (i32.add
              (i32.const 2)
              (i32.shr_u
                (i32.mul
                  (i32.sub (i32.const 70) (i32.wrap_i64 (i64.clz (i64.or (local.get $timestampZ) (i64.const 1)))))
                  (i32.const 147))
                (i32.const 10)))
            (i32.add
              (i32.shr_u
                (i32.mul
                  (i32.sub (i32.const 38) (i32.clz (i32.or (i32.shl (local.get $k) (i32.const 1)) (i32.const 1))))
                  (i32.const 147))
                (i32.const 10))
              (i32.add
                (if (result i32) (i32.lt_s (local.get $keyLength) (i32.const 0))
                  (then (i32.const 1))
                  (else
                    (i32.add
                      (local.get $keyLength)
                      (i32.shr_u
                        (i32.mul
                          (i32.sub (i32.const 38) (i32.clz (i32.or (i32.shl (local.get $keyLength) (i32.const 1)) (i32.const 1))))
                          (i32.const 147))
                        (i32.const 10)))))
                (if (result i32) (i32.lt_s (local.get $valueLength) (i32.const 0))
                  (then (i32.const 1))
                  (else
                    (i32.add
                      (local.get $valueLength)
                      (i32.shr_u
                        (i32.mul
                          (i32.sub (i32.const 38) (i32.clz (i32.or (i32.shl (local.get $valueLength) (i32.const 1)) (i32.const 1))))
                          (i32.const 147))
                        (i32.const 10)))))))))

        ;; Length varint (the zig-zag of a length >= 0 is length << 1), then attributes: 0.
        (local.set $z (i32.shl (local.get $body) (i32.const 1)))
        (block $end
          (loop $more
            (br_if $end (i32.lt_u (local.get $z) (i32.const 0x80)))
            (i32.store8 (local.get $p) (i32.or (local.get $z) (i32.const 0x80)))
            (local.set $z (i32.shr_u (local.get $z) (i32.const 7)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $more)))
        (i32.store8 (local.get $p) (local.get $z))
        (i32.store8 offset=1 (local.get $p) (i32.const 0))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))

        ;; Timestamp delta varlong.
        (local.set $zl (local.get $timestampZ))
        (block $end
          (loop $more
            (br_if $end (i64.lt_u (local.get $zl) (i64.const 0x80)))
            (i64.store8 (local.get $p) (i64.or (local.get $zl) (i64.const 0x80)))
            (local.set $zl (i64.shr_u (local.get $zl) (i64.const 7)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $more)))
        (i64.store8 (local.get $p) (local.get $zl))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))

        ;; Offset delta varint.
        (local.set $z (i32.shl (local.get $k) (i32.const 1)))
        (block $end
          (loop $more
            (br_if $end (i32.lt_u (local.get $z) (i32.const 0x80)))
            (i32.store8 (local.get $p) (i32.or (local.get $z) (i32.const 0x80)))
            (local.set $z (i32.shr_u (local.get $z) (i32.const 7)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $more)))
        (i32.store8 (local.get $p) (local.get $z))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))

        ;; The key: null (zig-zag -1) or its length varint and bytes.
        (if (i32.lt_s (local.get $keyLength) (i32.const 0))
          (then
            (i32.store8 (local.get $p) (i32.const 1))
            (local.set $p (i32.add (local.get $p) (i32.const 1))))
          (else
            (local.set $z (i32.shl (local.get $keyLength) (i32.const 1)))
            (block $end
              (loop $more
                (br_if $end (i32.lt_u (local.get $z) (i32.const 0x80)))
                (i32.store8 (local.get $p) (i32.or (local.get $z) (i32.const 0x80)))
                (local.set $z (i32.shr_u (local.get $z) (i32.const 7)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $more)))
            (i32.store8 (local.get $p) (local.get $z))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $from (i32.add (local.get $keyBytes) (i32.load (i32.add (local.get $keyStarts) (local.get $at)))))
            (if (i32.gt_u (local.get $keyLength) (i32.const 256))
              (then (memory.copy (local.get $p) (local.get $from) (local.get $keyLength)))
              (else
                (local.set $j (i32.const 0))
                (block $copied
                  (loop $step
                    (br_if $copied (i32.ge_s (local.get $j) (local.get $keyLength)))
                    (v128.store
                      (i32.add (local.get $p) (local.get $j))
                      (v128.load (i32.add (local.get $from) (local.get $j))))
                    (local.set $j (i32.add (local.get $j) (i32.const 16)))
                    (br $step)))))
            (local.set $p (i32.add (local.get $p) (local.get $keyLength)))))

        ;; The value, the same way.
        (if (i32.lt_s (local.get $valueLength) (i32.const 0))
          (then
            (i32.store8 (local.get $p) (i32.const 1))
            (local.set $p (i32.add (local.get $p) (i32.const 1))))
          (else
            (local.set $z (i32.shl (local.get $valueLength) (i32.const 1)))
            (block $end
              (loop $more
                (br_if $end (i32.lt_u (local.get $z) (i32.const 0x80)))
                (i32.store8 (local.get $p) (i32.or (local.get $z) (i32.const 0x80)))
                (local.set $z (i32.shr_u (local.get $z) (i32.const 7)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $more)))
            (i32.store8 (local.get $p) (local.get $z))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $from (i32.add (local.get $valueBytes) (i32.load (i32.add (local.get $valueStarts) (local.get $at)))))
            (if (i32.gt_u (local.get $valueLength) (i32.const 256))
              (then (memory.copy (local.get $p) (local.get $from) (local.get $valueLength)))
              (else
                (local.set $j (i32.const 0))
                (block $copied
                  (loop $step
                    (br_if $copied (i32.ge_s (local.get $j) (local.get $valueLength)))
                    (v128.store
                      (i32.add (local.get $p) (local.get $j))
                      (v128.load (i32.add (local.get $from) (local.get $j))))
                    (local.set $j (i32.add (local.get $j) (i32.const 16)))
                    (br $step)))))
            (local.set $p (i32.add (local.get $p) (local.get $valueLength)))))

        ;; Header count: 0.
        (i32.store8 (local.get $p) (i32.const 0))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $p))
)
