/**
 * What the command line shows: PNG grids of images and line plots drawn with java.awt, training
 * progress, and the printed reports of pipeline results.
 */
package io.vqdistill.cli.render;
