package io.vqdistill.circuits.layered;

import io.vqdistill.api.InvalidArgumentException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The Poon–Domingos region graph of a {@code height x width} image: the root region is the whole
 * image; a region is split into two along an axis at every offset from its top (or left) edge that
 * is a positive multiple of one of the piece sizes and lies inside it, each split being one
 * partition; a region with no such offset is a leaf region. Equal rectangles reached along different
 * paths are one region, so the graph is a DAG.
 *
 * <p>Regions are numbered by depth (the longest path down to a leaf region; leaf regions have depth
 * 0), then by reading order of their top-left corner, then by size; the numbering depends only on
 * the image size and the pieces, so a file can store the parameters in this order. The root is the
 * last region and the only one of greatest depth.
 */
public final class RegionGraph {
    /** A rectangle of pixels: rows [top, top + rows), columns [left, left + columns). */
    public record Region(int top, int left, int rows, int columns) {
        /** The pixels, row-major indices into the image. */
        int[] pixels(int width) {
            int[] out = new int[rows * columns];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < columns; c++) {
                    out[r * columns + c] = (top + r) * width + left + c;
                }
            }
            return out;
        }
    }

    /** A split of a region into two: region numbers of the parent and its two halves. */
    public record Partition(int parent, int left, int right) {
    }

    private final int height;
    private final int width;
    private final int[] pieces;
    private final List<Region> regions;
    private final int[] depth;
    private final List<List<Partition>> partitions;

    private RegionGraph(int height, int width, int[] pieces, List<Region> regions, int[] depth,
                        List<List<Partition>> partitions) {
        this.height = height;
        this.width = width;
        this.pieces = pieces;
        this.regions = regions;
        this.depth = depth;
        this.partitions = partitions;
    }

    /**
     * The Poon–Domingos graph of an image.
     *
     * @param pieces split step sizes, each >= 1 (duplicates ignored)
     * @throws InvalidArgumentException for sizes below 1 or no pieces
     */
    public static RegionGraph poonDomingos(int height, int width, int... pieces) {
        if (height < 1 || width < 1) {
            throw new InvalidArgumentException("a region graph needs an image of at least 1x1 pixels, found " + height
                    + "x" + width);
        }
        if (pieces.length == 0) {
            throw new InvalidArgumentException("a Poon-Domingos structure needs at least one piece size");
        }
        TreeSet<Integer> sizes = new TreeSet<>();
        for (int p : pieces) {
            if (p < 1) {
                throw InvalidArgumentException.of("piece size", p, ">= 1");
            }
            sizes.add(p);
        }
        int[] steps = sizes.stream().mapToInt(Integer::intValue).toArray();
        Map<Region, List<Region[]>> splits = new HashMap<>();
        Deque<Region> queue = new ArrayDeque<>();
        Region root = new Region(0, 0, height, width);
        splits.put(root, null);
        queue.add(root);
        while (!queue.isEmpty()) {
            Region r = queue.poll();
            List<Region[]> halves = new ArrayList<>();
            for (int offset : offsets(r.rows(), steps)) {
                halves.add(new Region[] {new Region(r.top(), r.left(), offset, r.columns()),
                    new Region(r.top() + offset, r.left(), r.rows() - offset, r.columns())});
            }
            for (int offset : offsets(r.columns(), steps)) {
                halves.add(new Region[] {new Region(r.top(), r.left(), r.rows(), offset),
                    new Region(r.top(), r.left() + offset, r.rows(), r.columns() - offset)});
            }
            splits.put(r, halves);
            for (Region[] h : halves) {
                for (Region child : h) {
                    if (!splits.containsKey(child)) {
                        splits.put(child, null);
                        queue.add(child);
                    }
                }
            }
        }
        Map<Region, Integer> depthOf = new HashMap<>();
        for (Region r : splits.keySet()) {
            depthOf(r, splits, depthOf);
        }
        List<Region> order = new ArrayList<>(splits.keySet());
        order.sort((a, b) -> {
            int c = Integer.compare(depthOf.get(a), depthOf.get(b));
            c = c != 0 ? c : Integer.compare(a.top(), b.top());
            c = c != 0 ? c : Integer.compare(a.left(), b.left());
            c = c != 0 ? c : Integer.compare(a.rows(), b.rows());
            return c != 0 ? c : Integer.compare(a.columns(), b.columns());
        });
        Map<Region, Integer> number = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            number.put(order.get(i), i);
        }
        int[] depth = new int[order.size()];
        List<List<Partition>> parts = new ArrayList<>();
        for (int i = 0; i < order.size(); i++) {
            Region r = order.get(i);
            depth[i] = depthOf.get(r);
            List<Partition> list = new ArrayList<>();
            for (Region[] h : splits.get(r)) {
                list.add(new Partition(i, number.get(h[0]), number.get(h[1])));
            }
            parts.add(Collections.unmodifiableList(list));
        }
        return new RegionGraph(height, width, steps, List.copyOf(order), depth, List.copyOf(parts));
    }

    private static List<Integer> offsets(int length, int[] steps) {
        TreeSet<Integer> out = new TreeSet<>();
        for (int s : steps) {
            for (int o = s; o < length; o += s) {
                out.add(o);
            }
        }
        return new ArrayList<>(out);
    }

    private static int depthOf(Region r, Map<Region, List<Region[]>> splits, Map<Region, Integer> memo) {
        Integer known = memo.get(r);
        if (known != null) {
            return known;
        }
        int d = 0;
        for (Region[] h : splits.get(r)) {
            d = Math.max(d, 1 + Math.max(depthOf(h[0], splits, memo), depthOf(h[1], splits, memo)));
        }
        memo.put(r, d);
        return d;
    }

    /** Image rows. */
    public int height() {
        return height;
    }

    /** Image columns. */
    public int width() {
        return width;
    }

    /** The distinct piece sizes, ascending. */
    public int[] pieces() {
        return pieces.clone();
    }

    /** Number of regions. */
    public int numRegions() {
        return regions.size();
    }

    /** Region {@code i}. */
    public Region region(int i) {
        return regions.get(i);
    }

    /** The depth of region {@code i}: 0 for a leaf region, else 1 + the largest depth of its halves. */
    public int depth(int i) {
        return depth[i];
    }

    /** The partitions of region {@code i}; empty for a leaf region. */
    public List<Partition> partitions(int i) {
        return partitions.get(i);
    }

    /** The root, the last region. */
    public int root() {
        return regions.size() - 1;
    }

    /** The greatest depth, the root's. */
    public int maxDepth() {
        return depth[root()];
    }

    /** The regions of depth {@code d}, ascending. */
    public int[] regionsAtDepth(int d) {
        return java.util.stream.IntStream.range(0, regions.size()).filter(i -> depth[i] == d).toArray();
    }

    /** The pixels of region {@code i}, row-major image indices. */
    public int[] pixels(int i) {
        return regions.get(i).pixels(width);
    }

    /** The total number of partitions. */
    public int numPartitions() {
        return partitions.stream().mapToInt(List::size).sum();
    }

    @Override
    public String toString() {
        return "Poon-Domingos " + height + "x" + width + " pieces " + Arrays.toString(pieces) + ": " + regions.size()
                + " regions (" + regionsAtDepth(0).length + " leaf regions), " + numPartitions() + " partitions, depth "
                + maxDepth();
    }
}
