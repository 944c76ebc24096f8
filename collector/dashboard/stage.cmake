# Copies the dashboard's own files and uPlot's dist files (from the npm
# install, never committed) into DST. Run by the memgauge-dashboard target:
#   cmake -DSRC=collector/dashboard -DDST=<build>/dashboard -P stage.cmake
file(GLOB own RELATIVE ${SRC} ${SRC}/*.html ${SRC}/*.css ${SRC}/*.js ${SRC}/*.svg)
file(MAKE_DIRECTORY ${DST}/lib)
foreach(f ${own})
  configure_file(${SRC}/${f} ${DST}/${f} COPYONLY)
endforeach()
set(uplot ${SRC}/node_modules/uplot/dist)
if(EXISTS ${uplot}/uPlot.esm.js AND EXISTS ${uplot}/uPlot.min.css)
  configure_file(${uplot}/uPlot.esm.js ${DST}/lib/uPlot.esm.js COPYONLY)
  configure_file(${uplot}/uPlot.min.css ${DST}/lib/uPlot.min.css COPYONLY)
  configure_file(${SRC}/node_modules/uplot/LICENSE ${DST}/lib/uPlot.LICENSE.txt COPYONLY)
else()
  message(WARNING "uPlot is not installed (${uplot}): the dashboard will draw no charts. "
                  "Run: npm ci --prefix ${SRC}")
endif()
