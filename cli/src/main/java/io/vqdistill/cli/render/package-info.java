/**
 * What the command line shows: PNG grids of images (java.awt), the sweep's line plot (XChart),
 * progress bars on a terminal (me.tongfei progressbar) and the printed reports of pipeline results.
 */
package io.vqdistill.cli.render;
