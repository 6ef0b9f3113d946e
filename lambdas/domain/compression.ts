// The codecs an export's part files may be compressed with, written once: what the configuration accepts,
// the key's extension, the object's content type and the name Snowflake's file format gives the codec.
// Snowflake loads CSV compressed with either (COMPRESSION = GZIP | ZSTD of CREATE FILE FORMAT).

export const CODECS = {
  gzip: {
    extension: '.gz',
    contentType: 'application/gzip',
    snowflake: 'GZIP',
    minLevel: 1,
    maxLevel: 9,
    defaultLevel: 6,
  },
  zstd: {
    extension: '.zst',
    contentType: 'application/zstd',
    snowflake: 'ZSTD',
    minLevel: 1,
    // Levels 20 to 22 ("ultra") need a window of up to 128 MiB per stream: not for a Lambda.
    maxLevel: 19,
    defaultLevel: 3,
  },
} as const;

export type CodecName = keyof typeof CODECS;
export const CODEC_NAMES = Object.keys(CODECS) as CodecName[];

/** A codec and its level, as `pipeline.compression` holds them once parsed. */
export interface Compression {
  readonly codec: CodecName;
  readonly level: number;
}

/** The compression part files get when `pipeline.compression` is not set. */
export const DEFAULT_COMPRESSION: Compression = { codec: 'gzip', level: 6 };

/** The codec whose extension a part file's key ends with (`.csv.gz`, `.csv.zst`); undefined for another. */
export function codecOfKey(key: string): CodecName | undefined {
  return CODEC_NAMES.find((name) => key.endsWith(`.csv${CODECS[name].extension}`));
}
