/*
 * Table administration that HBase's Thrift v1 gateway (what happybase speaks) cannot do: create a
 * table pre-split with a data block encoding, alter its family, flush it, major-compact it and
 * wait. The stack compiles it once (stack/services/hbase.py) and runs it with the HBase client:
 *
 *   java -cp CLASSES:CONFDIR:<hbase classpath> TableAdmin ACTION TABLE [ARGS ...]
 *   (or, uncompiled: java -cp CONFDIR:<hbase classpath> docker/hbase/TableAdmin.java ACTION ...)
 *
 *   ensure  TABLE FAMILY ENCODING COMPRESSION [SPLIT_KEY ...]
 *           e.g. ensure DriverCarInfo cf1 FAST_DIFF ZSTD 1 2 3 4 5 6 7 8 9 a b c d e f
 *           A missing table is created pre-split at the split keys. An existing table whose
 *           family has another encoding or codec is altered (online) and major-compacted, so
 *           that its HFiles are rewritten with the new settings; its regions stay as they are.
 *   flush   TABLE      write every memstore of the table to HFiles, and wait
 *   compact TABLE      major-compact the table and wait until it is done
 *   bulkload TABLE FAMILY QUALIFIER,... ROWS_FILE ...
 *           HBase's bulk load, for replaying a backlog: each ROWS_FILE (local, UTF-8) holds one
 *           row a line, ROWKEY TAB VALUE ... (one value per QUALIFIER, in that order); the loader
 *           writes one per salt range, and each is sorted on its own (the last line of a row key
 *           wins), so only one range's rows are in memory at a time. They are written as HFiles
 *           with the family's encoding, codec and bloom filter (one per first byte of the key: per
 *           region of the pre-split table) in a staging folder of HBase's file system, then handed
 *           to the regions atomically: no WAL, no memstore, no RPC per row. Loading the same rows
 *           again gives the same table.
 *
 * Prints one line saying what it did; exits 2 with a message on bad arguments.
 */

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hbase.KeyValue;
import org.apache.hadoop.hbase.HBaseConfiguration;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.client.Admin;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptor;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptorBuilder;
import org.apache.hadoop.hbase.client.CompactionState;
import org.apache.hadoop.hbase.client.Connection;
import org.apache.hadoop.hbase.client.ConnectionFactory;
import org.apache.hadoop.hbase.client.TableDescriptor;
import org.apache.hadoop.hbase.client.TableDescriptorBuilder;
import org.apache.hadoop.hbase.io.compress.Compression;
import org.apache.hadoop.hbase.io.encoding.DataBlockEncoding;
import org.apache.hadoop.hbase.io.hfile.CacheConfig;
import org.apache.hadoop.hbase.io.hfile.HFileContextBuilder;
import org.apache.hadoop.hbase.regionserver.BloomType;
import org.apache.hadoop.hbase.regionserver.HStoreFile;
import org.apache.hadoop.hbase.regionserver.StoreFileWriter;
import org.apache.hadoop.hbase.tool.BulkLoadHFiles;
import org.apache.hadoop.hbase.util.Bytes;

public class TableAdmin {
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      usage();
    }
    TableName name = TableName.valueOf(args[1]);
    Configuration conf = HBaseConfiguration.create();
    try (Connection connection = ConnectionFactory.createConnection(conf);
         Admin admin = connection.getAdmin()) {
      switch (args[0]) {
        case "ensure" -> ensure(admin, name, args);
        case "bulkload" -> bulkLoad(conf, admin, name, args);
        case "flush" -> {
          admin.flush(name);
          System.out.printf("flushed %s%n", name);
        }
        case "compact" -> {
          long started = System.nanoTime();
          admin.majorCompact(name);
          Thread.sleep(1000);  // the request is queued; the state turns MAJOR once it runs
          while (admin.getCompactionState(name) != CompactionState.NONE) {
            Thread.sleep(500);
          }
          System.out.printf("major-compacted %s in %.1f s%n", name, (System.nanoTime() - started) / 1e9);
        }
        default -> usage();
      }
    }
  }

  static void usage() {
    System.err.println("usage: TableAdmin ensure TABLE FAMILY ENCODING COMPRESSION [SPLIT_KEY ...]"
        + " | flush TABLE | compact TABLE | bulkload TABLE FAMILY QUALIFIER,... ROWS_FILE ...");
    System.exit(2);
  }

  static void ensure(Admin admin, TableName name, String[] args) throws Exception {
    if (args.length < 5) {
      usage();
    }
    byte[] family = Bytes.toBytes(args[2]);
    DataBlockEncoding encoding = DataBlockEncoding.valueOf(args[3].toUpperCase(Locale.ROOT));
    Compression.Algorithm codec =
        Compression.getCompressionAlgorithmByName(args[4].toLowerCase(Locale.ROOT));
    byte[][] splits = Arrays.stream(args, 5, args.length).map(Bytes::toBytes).toArray(byte[][]::new);

    if (!admin.tableExists(name)) {
      ColumnFamilyDescriptor cf = ColumnFamilyDescriptorBuilder.newBuilder(family)
          .setMaxVersions(1)
          .setBloomFilterType(BloomType.ROW)
          .setDataBlockEncoding(encoding)
          .setCompressionType(codec)
          .setCompactionCompressionType(codec)
          .build();
      TableDescriptor table = TableDescriptorBuilder.newBuilder(name).setColumnFamily(cf).build();
      if (splits.length > 0) {
        admin.createTable(table, splits);
      } else {
        admin.createTable(table);
      }
      System.out.printf("created %s: %s, %s, %d regions%n", name, encoding, codec.getName(),
          splits.length + 1);
      return;
    }
    ColumnFamilyDescriptor have = admin.getDescriptor(name).getColumnFamily(family);
    if (have == null) {
      System.err.printf("table %s has no column family %s%n", name, args[2]);
      System.exit(2);
    }
    if (have.getDataBlockEncoding() == encoding && have.getCompressionType() == codec) {
      System.out.printf("kept %s: %s, %s%n", name, encoding, codec.getName());
      return;
    }
    admin.modifyColumnFamily(name, ColumnFamilyDescriptorBuilder.newBuilder(have)
        .setDataBlockEncoding(encoding)
        .setCompressionType(codec)
        .setCompactionCompressionType(codec)
        .build());
    admin.majorCompact(name);
    System.out.printf("altered %s: %s, %s (was %s, %s); its files are being rewritten%n", name,
        encoding, codec.getName(), have.getDataBlockEncoding(), have.getCompressionType().getName());
  }

  static void bulkLoad(Configuration conf, Admin admin, TableName name, String[] args) throws Exception {
    if (args.length < 5) {
      usage();
    }
    byte[] family = Bytes.toBytes(args[2]);
    String[] qualifiers = args[3].split(",");
    Integer[] cellOrder = new Integer[qualifiers.length];  // a row's cells sorted by qualifier
    for (int i = 0; i < cellOrder.length; i++) {
      cellOrder[i] = i;
    }
    Arrays.sort(cellOrder, (a, b) -> Bytes.compareTo(Bytes.toBytes(qualifiers[a]), Bytes.toBytes(qualifiers[b])));
    byte[][] qualifierBytes = Arrays.stream(qualifiers).map(Bytes::toBytes).toArray(byte[][]::new);

    ColumnFamilyDescriptor cf = admin.getDescriptor(name).getColumnFamily(family);
    FileSystem fs = FileSystem.get(conf);
    Path staging = new Path(fs.getHomeDirectory(), ".pilot-bulkload/" + UUID.randomUUID());
    Path familyDir = new Path(staging, args[2]);
    long now = System.currentTimeMillis();
    CacheConfig cache = new CacheConfig(conf);
    int files = 0;
    long written = 0;
    try {
      // one rows file at a time (the loader writes one per salt range): only its rows in memory
      for (int f = 4; f < args.length; f++) {
        List<String> rows = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(Paths.get(args[f]), StandardCharsets.UTF_8)) {
          for (String line = in.readLine(); line != null; line = in.readLine()) {
            rows.add(line);
          }
        }
        // stable: of two lines with one key, the later stays later, and wins below
        rows.sort(TableAdmin::compareKeys);
        StoreFileWriter writer = null;
        char range = 0;
        try {
          for (int r = 0; r < rows.size(); r++) {
            String line = rows.get(r);
            if (r + 1 < rows.size() && compareKeys(line, rows.get(r + 1)) == 0) {
              continue;
            }
            String[] fields = line.split("\t", -1);
            if (fields.length != qualifiers.length + 1) {
              throw new IllegalArgumentException("a row of " + args[f] + " has " + (fields.length - 1)
                  + " values, not " + qualifiers.length + ": " + line);
            }
            if (writer == null || fields[0].charAt(0) != range) {
              if (writer != null) {
                finish(writer, now);
              }
              range = fields[0].charAt(0);
              writer = new StoreFileWriter.Builder(conf, cache, fs)
                  .withFilePath(new Path(familyDir, "range-" + (int) range + "-" + f))
                  .withBloomType(cf.getBloomFilterType())
                  .withMaxKeyCount(rows.size() - r)
                  .withFileContext(new HFileContextBuilder()
                      .withCompression(cf.getCompressionType())
                      .withDataBlockEncoding(cf.getDataBlockEncoding())
                      .withBlockSize(cf.getBlocksize())
                      .withColumnFamily(family)
                      .withTableName(name.getName())
                      .withIncludesTags(false)
                      .build())
                  .build();
              files++;
            }
            byte[] key = Bytes.toBytes(fields[0]);
            for (int q : cellOrder) {
              writer.append(new KeyValue(key, family, qualifierBytes[q], now, KeyValue.Type.Put,
                  Bytes.toBytes(fields[q + 1])));
            }
            written++;
          }
          if (writer != null) {
            finish(writer, now);
            writer = null;
          }
        } finally {
          if (writer != null) {
            writer.close();
          }
        }
      }
      if (written > 0) {
        BulkLoadHFiles.create(conf).bulkLoad(name, staging);
      }
      System.out.printf("bulk-loaded %d rows into %s from %d files%n", written, name, files);
    } finally {
      fs.delete(staging, true);
    }
  }

  /** Order of two rows-file lines by their row key (the text before the first tab; ASCII). */
  static int compareKeys(String a, String b) {
    int ea = a.indexOf('\t');
    int eb = b.indexOf('\t');
    ea = ea < 0 ? a.length() : ea;
    eb = eb < 0 ? b.length() : eb;
    int n = Math.min(ea, eb);
    for (int i = 0; i < n; i++) {
      int d = a.charAt(i) - b.charAt(i);
      if (d != 0) {
        return d;
      }
    }
    return ea - eb;
  }

  static void finish(StoreFileWriter writer, long now) throws Exception {
    writer.appendFileInfo(HStoreFile.BULKLOAD_TIME_KEY, Bytes.toBytes(now));
    writer.appendFileInfo(HStoreFile.MAJOR_COMPACTION_KEY, Bytes.toBytes(false));
    writer.appendTrackedTimestampsToMetadata();
    writer.close();
  }
}
