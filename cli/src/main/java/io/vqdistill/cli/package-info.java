/** The {@code vqdistill} command-line application. */
package io.vqdistill.cli;
