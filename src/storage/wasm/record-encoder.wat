;; The per-record loop of the record batch encoder (src/storage/record-batch.ts): Kafka's v2
;; record layout, one record after another, fields copied 16 bytes a step. `npm run gen:wasm`
;; assembles this file into record-encoder.wasm.ts (test/wasm-sources.test.ts checks the two
;; agree); test/storage/record-encoder.test.ts checks its output is the JavaScript encoder's.
;;
;; A record: length varint, attributes int8 (0), timestamp delta varlong, offset delta varint,
;; key length varint (-1: null) and key, value length varint and value, header count varint (0).
;; Varints are zig-zag, as Kafka writes them.
(module
  (memory (export "memory") 1)

  (func $zigzag32 (param $v i32) (result i32)
    (i32.xor (i32.shl (local.get $v) (i32.const 1)) (i32.shr_s (local.get $v) (i32.const 31))))

  (func $zigzag64 (param $v i64) (result i64)
    (i64.xor (i64.shl (local.get $v) (i64.const 1)) (i64.shr_s (local.get $v) (i64.const 63))))

  ;; Bytes of the zig-zag varint of $v.
  (func $sizeOfVarint (param $v i32) (result i32)
    (local $z i32)
    (local.set $z (call $zigzag32 (local.get $v)))
    (i32.add
      (i32.const 1)
      (i32.add
        (i32.add (i32.ge_u (local.get $z) (i32.const 0x80)) (i32.ge_u (local.get $z) (i32.const 0x4000)))
        (i32.add (i32.ge_u (local.get $z) (i32.const 0x200000)) (i32.ge_u (local.get $z) (i32.const 0x10000000))))))

  (func $sizeOfVarlong (param $v i64) (result i32)
    (local $z i64)
    (local $n i32)
    (local.set $z (call $zigzag64 (local.get $v)))
    (local.set $n (i32.const 1))
    (block $done
      (loop $more
        (br_if $done (i64.lt_u (local.get $z) (i64.const 0x80)))
        (local.set $z (i64.shr_u (local.get $z) (i64.const 7)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $more)))
    (local.get $n))

  ;; Writes the zig-zag varint of $v at $p; returns the position after it.
  (func $varint (param $p i32) (param $v i32) (result i32)
    (local $z i32)
    (local.set $z (call $zigzag32 (local.get $v)))
    (block $done
      (loop $more
        (br_if $done (i32.lt_u (local.get $z) (i32.const 0x80)))
        (i32.store8 (local.get $p) (i32.or (local.get $z) (i32.const 0x80)))
        (local.set $z (i32.shr_u (local.get $z) (i32.const 7)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $more)))
    (i32.store8 (local.get $p) (local.get $z))
    (i32.add (local.get $p) (i32.const 1)))

  (func $varlong (param $p i32) (param $v i64) (result i32)
    (local $z i64)
    (local.set $z (call $zigzag64 (local.get $v)))
    (block $done
      (loop $more
        (br_if $done (i64.lt_u (local.get $z) (i64.const 0x80)))
        (i64.store8 (local.get $p) (i64.or (local.get $z) (i64.const 0x80)))
        (local.set $z (i64.shr_u (local.get $z) (i64.const 7)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $more)))
    (i64.store8 (local.get $p) (local.get $z))
    (i32.add (local.get $p) (i32.const 1)))

  ;; A field's length varint and bytes (-1: null, no bytes).
  (func $fieldSize (param $length i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $length) (i32.const 0))
      (then (i32.const 1))
      (else (i32.add (call $sizeOfVarint (local.get $length)) (local.get $length)))))

  ;; Fields up to 256 bytes are copied 16 bytes a step (a memory.copy call costs more than the
  ;; copy itself at that size); the step may read and write up to 15 bytes past the field, which
  ;; the caller's layout allows and the next record's bytes overwrite.
  (func $field (param $p i32) (param $from i32) (param $length i32) (result i32)
    (local $k i32)
    (local.set $p (call $varint (local.get $p) (local.get $length)))
    (if (i32.lt_s (local.get $length) (i32.const 0))
      (then (return (local.get $p))))
    (if (i32.gt_u (local.get $length) (i32.const 256))
      (then
        (memory.copy (local.get $p) (local.get $from) (local.get $length))
        (return (i32.add (local.get $p) (local.get $length)))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $k) (local.get $length)))
        (v128.store
          (i32.add (local.get $p) (local.get $k))
          (v128.load (i32.add (local.get $from) (local.get $k))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $next)))
    (i32.add (local.get $p) (local.get $length)))

  ;; Writes `count` records at `dst`; returns the end of what it wrote. Record k is row rows[k]
  ;; of the columns (row k when `rows` is -1), its offset delta is k. The columns: field i of the
  ;; keys is keyBytes[keyStarts[i] .. + keyLengths[i]] (same for values); `timestamps` holds f64
  ;; milliseconds, each written as its difference from `baseTimestamp`. Arrays are i32 or f64,
  ;; little-endian, as JavaScript's typed arrays lay them out.
  (func (export "encodeRecords")
    (param $count i32) (param $rows i32)
    (param $keyBytes i32) (param $keyStarts i32) (param $keyLengths i32)
    (param $valueBytes i32) (param $valueStarts i32) (param $valueLengths i32)
    (param $timestamps i32) (param $baseTimestamp i64) (param $dst i32)
    (result i32)
    (local $k i32)
    (local $i i32)
    (local $at i32)
    (local $p i32)
    (local $keyLength i32)
    (local $valueLength i32)
    (local $timestampDelta i64)
    (local.set $p (local.get $dst))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $i
          (if (result i32) (i32.lt_s (local.get $rows) (i32.const 0))
            (then (local.get $k))
            (else (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))))))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (local.set $keyLength (i32.load (i32.add (local.get $keyLengths) (local.get $at))))
        (local.set $valueLength (i32.load (i32.add (local.get $valueLengths) (local.get $at))))
        (local.set $timestampDelta
          (i64.sub
            (i64.trunc_f64_s (f64.load (i32.add (local.get $timestamps) (i32.shl (local.get $i) (i32.const 3)))))
            (local.get $baseTimestamp)))
        ;; The record's length: attributes and header count (one byte each) and the rest.
        (local.set $p
          (call $varint
            (local.get $p)
            (i32.add
              (i32.add (i32.const 2) (call $sizeOfVarlong (local.get $timestampDelta)))
              (i32.add
                (call $sizeOfVarint (local.get $k))
                (i32.add (call $fieldSize (local.get $keyLength)) (call $fieldSize (local.get $valueLength)))))))
        (i32.store8 (local.get $p) (i32.const 0))
        (local.set $p (call $varlong (i32.add (local.get $p) (i32.const 1)) (local.get $timestampDelta)))
        (local.set $p (call $varint (local.get $p) (local.get $k)))
        (local.set $p
          (call $field
            (local.get $p)
            (i32.add (local.get $keyBytes) (i32.load (i32.add (local.get $keyStarts) (local.get $at))))
            (local.get $keyLength)))
        (local.set $p
          (call $field
            (local.get $p)
            (i32.add (local.get $valueBytes) (i32.load (i32.add (local.get $valueStarts) (local.get $at))))
            (local.get $valueLength)))
        (i32.store8 (local.get $p) (i32.const 0))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $p))
)
